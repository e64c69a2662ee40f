/** Rasa's socket.io channel: session_request -> session_confirm, user_uttered out, bot_uttered in. */
import { io } from "socket.io-client";

/** Rasa sends ``buttons`` as ``quick_replies`` over socket.io; accept both. */
export function normaliseBotMessage(data) {
  if (!data || typeof data !== "object") return null;
  const text = typeof data.text === "string" ? data.text : "";
  const buttons = (data.quick_replies || data.buttons || [])
    .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string")
    .map(({ title, payload }) => ({ title, payload }));
  return text || buttons.length ? { text, buttons } : null;
}

export class Connection {
  /**
   * @param {{serverUrl: string, socketPath: string, sessionId: string}} options
   * @param {{onMessage: Function, onStatus: Function, onSent: Function}} handlers
   *        status: connecting | online | reconnecting | offline; onSent: a message really left (now, or once back online)
   */
  constructor({ serverUrl, socketPath, sessionId }, { onMessage, onStatus, onSent }) {
    this.sessionId = sessionId;
    this.outbox = [];
    this.online = false;
    this.onStatus = onStatus;
    this.onSent = onSent;
    this.socket = io(serverUrl, { path: socketPath, reconnectionDelayMax: 10000, timeout: 10000 });
    this.socket.on("connect", () => this.socket.emit("session_request", { session_id: this.sessionId }));
    this.socket.on("session_confirm", () => this.confirmed());
    this.socket.on("bot_uttered", (data) => {
      const message = normaliseBotMessage(data);
      if (message) onMessage(message);
    });
    this.socket.on("disconnect", () => this.setOnline(false, "reconnecting"));
    this.socket.on("connect_error", () => this.setOnline(false, "offline"));
    onStatus("connecting");
  }

  setOnline(online, status) {
    this.online = online;
    this.onStatus(status);
  }

  /** In our session's room now: bot-initiated messages (reminders) reach us; send what waited. */
  confirmed() {
    this.setOnline(true, "online");
    this.outbox.splice(0).forEach((text) => this.emit(text));
  }

  /** Sends now, or as soon as the server is back. */
  send(text) {
    if (this.online) this.emit(text);
    else this.outbox.push(text);
  }

  emit(text) {
    this.socket.emit("user_uttered", { message: text, session_id: this.sessionId });
    this.onSent();
  }
}
