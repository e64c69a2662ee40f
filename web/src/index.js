/**
 * The embeddable chat widget: one <script src=".../widget.js" data-server-url=... defer></script> adds a
 * launcher button and a chat panel that talk to the Rasa server's socket.io channel.
 */
import styles from "./styles.css";
import feedbackStyles from "./feedback.css";
import { AA, contrast, readableAccent, resolveColor, textOn, toCss } from "./colors.js";
import { findScript, readConfig, DEFAULTS } from "./config.js";
import { Connection } from "./connection.js";
import { Ratings } from "./feedback.js";
import { Conversation, safeStorage } from "./storage.js";
import { ChatView } from "./ui.js";

const HOST_ATTRIBUTE = "data-chat-widget";
const LOADED = Symbol.for("chat-widget.loaded"); // the tag twice on a page: one widget

/** The brand colour, plus the text colours that keep WCAG AA on it and on white. */
function applyTheme(host, root, primaryColor) {
  const primary = resolveColor(primaryColor, root, DEFAULTS.primaryColor);
  host.style.setProperty("--cw-primary", toCss(primary));
  host.style.setProperty("--cw-on-primary", toCss(textOn(primary)));
  host.style.setProperty("--cw-accent", toCss(readableAccent(primary)));
  host.dataset.contrastOk = String(contrast(primary, textOn(primary)) >= AA);
}

function mount(document, window, config) {
  const host = document.createElement("div");
  host.setAttribute(HOST_ATTRIBUTE, "");
  document.body.append(host);
  const root = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = styles + feedbackStyles;
  root.append(style);
  applyTheme(host, root, config.primaryColor);

  const conversation = new Conversation(safeStorage(() => window.localStorage), config.serverUrl);
  const panelState = safeStorage(() => window.sessionStorage);
  const openKey = `${conversation.prefix}:open`;
  let connection = null;
  const ratings = new Ratings(document, {
    send: (metadata) => connection.send("/feedback", metadata),
    save: () => conversation.save(),
  });

  const view = new ChatView(root, config, {
    onSend(text, shownAs) {
      conversation.dropButtons();
      view.clearQuickReplies();
      view.addMessage(conversation.add({ from: "user", text: shownAs, ts: Date.now() }));
      connection.send(text); // the typing dots only once it has really gone (not while offline)
    },
    onToggle(isOpen) {
      panelState.set(openKey, isOpen ? "1" : "");
    },
    decorate: (item, message) => ratings.decorate(item, message),
  });
  if (config.greeting) view.addMessage({ from: "bot", text: config.greeting }, { live: false });
  conversation.messages.forEach((message) => view.addMessage(message, { live: false }));

  connection = new Connection(
    { serverUrl: config.serverUrl, socketPath: config.socketPath, sessionId: conversation.sessionId },
    {
      onMessage: (message) => view.addMessage(conversation.add({ from: "bot", ...message, ts: Date.now() })),
      onStatus: (status) => view.setStatus(status),
      onSession: (id) => conversation.setSession(id),
      onSent: () => view.setTyping(true),
      onFeedback: (ack) => ratings.acknowledged(ack),
    },
  );
  if (panelState.get(openKey)) view.open({ focus: false });
}

(function start() {
  if (typeof window === "undefined" || window[LOADED]) return;
  window[LOADED] = true;
  const config = readConfig(findScript(document), window.location); // currentScript: only now, not later
  const go = () => mount(document, window, config);
  if (document.body) go();
  else document.addEventListener("DOMContentLoaded", go, { once: true });
})();
