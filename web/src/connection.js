/** Rasa's socket.io channel: session_request -> session_confirm, user_uttered out, bot_uttered in. */
import { io } from "socket.io-client";
import { normaliseFeedback } from "./feedback.js";

/** Rasa sends ``buttons`` as ``quick_replies`` over socket.io; accept both. */
export function normaliseBotMessage(data) {
  if (!data || typeof data !== "object") return null;
  const text = typeof data.text === "string" ? data.text : "";
  const buttons = (data.quick_replies || data.buttons || [])
    .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string")
    .map(({ title, payload }) => ({ title, payload }));
  const feedback = normaliseFeedback(data.feedback); // a protocol answer that can be rated (feedback.js)
  if (!text && !buttons.length) return null;
  return feedback ? { text, buttons, feedback } : { text, buttons };
}

/** The session id in a ``session_confirm``: Rasa sends the id itself, some servers ``{session_id}``. */
export function confirmedSessionId(data) {
  const id = data && typeof data === "object" ? data.session_id : data;
  return typeof id === "string" && id ? id : null;
}

export class Connection {
  /**
   * @param {{serverUrl: string, socketPath: string, sessionId: ?string}} options  sessionId: the server's, if any yet
   * @param {{onMessage: Function, onStatus: Function, onSession: Function, onSent: Function, onFeedback: ?Function}} handlers
   *   status: connecting | online | reconnecting | offline; onSession(id): the server confirmed (or issued) an id;
   *   onSent: a message really left (now, or once back online); onFeedback(ack): a rating was stored
   */
  constructor({ serverUrl, socketPath, sessionId }, { onMessage, onStatus, onSession, onSent, onFeedback }) {
    this.sessionId = sessionId || null;
    this.outbox = [];
    this.online = false;
    this.onStatus = onStatus;
    this.onSent = onSent;
    this.socket = io(serverUrl, { path: socketPath, reconnectionDelayMax: 10000, timeout: 10000 });
    // The server issues the session id (a signed token) and confirms it; we present it again on every
    // reconnect, so the conversation goes on. An id it did not issue gets a new session.
    this.socket.on("connect", () => this.socket.emit("session_request", { session_id: this.sessionId }));
    this.socket.on("session_confirm", (data) => {
      const id = confirmedSessionId(data);
      if (id && id !== this.sessionId) {
        this.sessionId = id;
        onSession(id);
      }
      this.confirmed();
    });
    this.socket.on("bot_uttered", (data) => {
      if (data && typeof data === "object" && data.feedback_ack) {
        if (onFeedback) onFeedback(data.feedback_ack);
        return;
      }
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
    this.outbox.splice(0).forEach(([text, metadata]) => this.emit(text, metadata));
  }

  /** Sends now, or as soon as the server is back; ``metadata`` (a rating) goes as Rasa's message metadata. */
  send(text, metadata) {
    if (this.online) this.emit(text, metadata);
    else this.outbox.push([text, metadata]);
  }

  emit(text, metadata) {
    const message = { message: text, session_id: this.sessionId };
    this.socket.emit("user_uttered", metadata ? { ...message, metadata } : message);
    if (!metadata) this.onSent(); // a rating gets no reply to wait for
  }
}
