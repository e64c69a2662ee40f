/** What survives a reload: the session id and the rendered conversation (as data, never as HTML). */

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

/** A random, unguessable id (122 random bits); randomUUID needs a secure context, getRandomValues does not. */
export function randomId(crypto) {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class Conversation {
  /** One conversation per server URL, kept in ``storage`` (localStorage). */
  constructor(storage, serverUrl, crypto) {
    this.storage = storage;
    this.prefix = `chat-widget:${serverUrl}`;
    this.sessionId = storage.get(`${this.prefix}:session`);
    if (!this.sessionId) {
      this.sessionId = randomId(crypto);
      storage.set(`${this.prefix}:session`, this.sessionId);
    }
    this.messages = this.load();
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
