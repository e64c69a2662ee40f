/** What survives a reload: the server-issued session id and the rendered conversation (as data, never as HTML). */

const MAX_MESSAGES = 200;

/** A Storage that never throws (private mode, disabled storage): falls back to memory. */
export function safeStorage(getStorage) {
  const memory = new Map();
  let storage = null;
  try {
    storage = getStorage();
    const probe = "__chat_widget_probe__";
    storage.setItem(probe, probe);
    storage.removeItem(probe);
  } catch (error) {
    storage = null;
  }
  return {
    get: (key) => (storage ? storage.getItem(key) : memory.has(key) ? memory.get(key) : null),
    set: (key, value) => {
      try {
        if (storage) return storage.setItem(key, value);
      } catch (error) {
        /* quota exceeded: keep the page working, forget the history */
      }
      memory.set(key, value);
    },
  };
}

export class Conversation {
  /** One conversation per server URL, kept in ``storage`` (localStorage); the session id is the server's. */
  constructor(storage, serverUrl) {
    this.storage = storage;
    this.prefix = `chat-widget:${serverUrl}`;
    this.sessionId = storage.get(`${this.prefix}:session`);
    this.messages = this.load();
  }

  /** The session id the server issued: presented again after a reload or a reconnect. */
  setSession(id) {
    this.sessionId = id;
    this.storage.set(`${this.prefix}:session`, id);
  }

  load() {
    try {
      const messages = JSON.parse(this.storage.get(`${this.prefix}:messages`) || "[]");
      return Array.isArray(messages) ? messages.filter(isMessage) : [];
    } catch (error) {
      return [];
    }
  }

  save() {
    this.messages = this.messages.slice(-MAX_MESSAGES);
    this.storage.set(`${this.prefix}:messages`, JSON.stringify(this.messages));
  }

  add(message) {
    this.messages.push(message);
    this.save();
    return message;
  }

  /** Quick replies only make sense until the user answers. */
  dropButtons() {
    this.messages.forEach((m) => delete m.buttons);
    this.save();
  }
}

function isMessage(m) {
  return m && (m.from === "user" || m.from === "bot") && typeof m.text === "string" && typeof m.ts === "number";
}
