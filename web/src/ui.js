/** The launcher and the chat panel, inside a shadow root so the brand's CSS and ours never meet. */
import { renderMarkdown } from "./markdown.js";

const STATUS_TEXT = {
  connecting: "",
  online: "",
  reconnecting: "Connection lost. Reconnecting…",
  offline: "Can't reach the assistant right now. Retrying…",
};

const CHAT_ICON =
  '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false"><path fill="currentColor" ' +
  'd="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 ' +
  '3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/></svg>';

const TEMPLATE = `
<button class="launcher" type="button" aria-label="Open chat" aria-controls="panel" aria-expanded="false"
        aria-describedby="unread">${CHAT_ICON}<span class="badge" aria-hidden="true" hidden></span></button>
<span id="unread" class="sr-only"></span>
<section id="panel" class="panel" role="dialog" aria-modal="false" aria-labelledby="title" hidden>
  <header class="header">
    <h2 id="title" class="title"></h2>
    <button class="close" type="button" aria-label="Close chat">
      <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false"><path fill="currentColor"
        d="M18.3 5.7a1 1 0 0 0-1.4 0L12 10.6 7.1 5.7a1 1 0 0 0-1.4 1.4l4.9 4.9-4.9 4.9a1 1 0 1 0 1.4 1.4l4.9-4.9 4.9 4.9a1 1 0 0 0 1.4-1.4L13.4 12l4.9-4.9a1 1 0 0 0 0-1.4z"/></svg>
    </button>
  </header>
  <p class="status" role="status" hidden></p>
  <div class="log" role="log" aria-live="polite" aria-label="Conversation" tabindex="0"></div>
  <p class="typing" hidden><span class="sr-only">The assistant is typing</span><span class="dot"></span><span class="dot"></span><span class="dot"></span></p>
  <form class="composer">
    <label class="sr-only" for="input">Type your message</label>
    <input id="input" class="input" type="text" autocomplete="off" enterkeyhint="send" maxlength="1000"
           placeholder="Type your message…">
    <button class="send" type="submit" aria-label="Send">
      <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false"><path fill="currentColor"
        d="M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z"/></svg>
    </button>
  </form>
</section>`;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
/** Where the panel fills the screen (styles.css): there it is a modal dialog and the page behind stays put. */
const FULL_SCREEN = "(max-width: 600px)";
const FOCUSABLE = "button, input, [tabindex='0']";

/** Stops the page behind a full-screen panel from scrolling; gives back the page's own overflow after. */
class ScrollLock {
  constructor(document) {
    this.elements = [document.documentElement, document.body];
    this.saved = null;
  }

  set(locked) {
    if (locked && !this.saved) {
      this.saved = this.elements.map((el) => el.style.overflow);
      this.elements.forEach((el) => { el.style.overflow = "hidden"; });
    } else if (!locked && this.saved) {
      this.elements.forEach((el, i) => { el.style.overflow = this.saved[i]; });
      this.saved = null;
    }
  }
}

/** The reply's last line "_Source: …_" becomes a small, muted paragraph of its own (it cites, it is not the
 *  answer) — wherever markdown put it: the answer's last paragraph, or the last item of a numbered routine. */
function markSourceLine(body) {
  const ems = body.querySelectorAll("em");
  const em = ems[ems.length - 1];
  if (!em || !/^Source:/.test(em.textContent) || (em.nextSibling && em.nextSibling.textContent.trim())) return;
  const before = em.previousSibling;
  if (before && before.nodeName === "BR") before.remove();
  const parent = em.parentElement;
  const source = body.ownerDocument.createElement("p");
  source.className = "source";
  source.append(em);
  body.append(source);
  if (parent && parent !== body && !parent.textContent.trim()) parent.remove();
}

export class ChatView {
  /**
   * @param {ShadowRoot} root
   * @param {{title: string}} config
   * @param {{onSend: Function, onToggle: Function, decorate: ?Function}} handlers  onSend(text, shownAs);
   *   onToggle(isOpen); decorate(item, message): adds controls of its own under a message (feedback.js)
   */
  constructor(root, config, { onSend, onToggle, decorate }) {
    const template = root.ownerDocument.createElement("template");
    template.innerHTML = TEMPLATE; // our own constant markup; nothing from the server or the user
    root.append(template.content);
    this.root = root;
    this.window = root.ownerDocument.defaultView;
    this.onSend = onSend;
    this.onToggle = onToggle;
    this.decorate = decorate || (() => {});
    this.unread = 0;
    this.typingTimer = null;
    this.fullScreen = this.window.matchMedia(FULL_SCREEN);
    this.scrollLock = new ScrollLock(root.ownerDocument);
    const $ = (selector) => root.querySelector(selector);
    Object.assign(this, {
      launcher: $(".launcher"), badge: $(".badge"), unreadText: $("#unread"), panel: $(".panel"),
      log: $(".log"), status: $(".status"), typing: $(".typing"), form: $(".composer"), input: $(".input"),
    });
    $(".title").textContent = config.title;
    this.bind($(".close"));
  }

  bind(closeButton) {
    this.launcher.addEventListener("click", () => this.open());
    closeButton.addEventListener("click", () => this.close());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close();
      } else if (event.key === "Tab" && this.isModal) this.keepFocusInside(event);
    });
    const resized = () => this.updateModal();
    if (this.fullScreen.addEventListener) this.fullScreen.addEventListener("change", resized);
    else this.fullScreen.addListener(resized); // Safari before 14
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      this.input.value = "";
      this.onSend(text, text);
    });
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  get isModal() {
    return this.isOpen && this.fullScreen.matches;
  }

  /** Full screen (phones): a modal dialog, the page behind neither scrolls nor takes focus. */
  updateModal() {
    this.panel.setAttribute("aria-modal", String(this.isModal));
    this.scrollLock.set(this.isModal);
  }

  /** Tab and Shift+Tab go round the panel's controls while it is modal. */
  keepFocusInside(event) {
    const controls = [...this.panel.querySelectorAll(FOCUSABLE)].filter((el) => el.getClientRects().length);
    if (!controls.length) return;
    const first = controls[0];
    const last = controls[controls.length - 1];
    const current = this.root.activeElement;
    if (event.shiftKey && (current === first || !controls.includes(current))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (current === last || !controls.includes(current))) {
      event.preventDefault();
      first.focus();
    }
  }

  /** ``focus``: false when restoring an open panel after a reload (do not steal the page's focus). */
  open({ focus = true } = {}) {
    this.panel.hidden = false;
    this.launcher.hidden = true;
    this.launcher.setAttribute("aria-expanded", "true");
    this.updateModal();
    this.setUnread(0);
    this.scrollToEnd();
    if (focus) this.input.focus();
    this.onToggle(true);
  }

  close() {
    this.panel.hidden = true;
    this.launcher.hidden = false;
    this.launcher.setAttribute("aria-expanded", "false");
    this.updateModal();
    this.launcher.focus();
    this.onToggle(false);
  }

  setUnread(count) {
    this.unread = count;
    this.badge.hidden = count === 0;
    this.badge.textContent = String(count);
    this.unreadText.textContent = count ? `${count} new message${count > 1 ? "s" : ""}` : "";
  }

  /** One message: bot text as sanitised markdown, user text as plain text; quick replies under bot text. */
  addMessage(message, { live = true } = {}) {
    const item = this.element("div", `message ${message.from}`);
    const bubble = this.element("div", "bubble");
    const who = this.element("span", "sr-only", message.from === "bot" ? "Assistant: " : "You: ");
    const body = this.element("div", "text");
    if (message.from === "bot") {
      body.innerHTML = renderMarkdown(message.text, this.window);
      markSourceLine(body);
    } else body.textContent = message.text;
    bubble.append(who, body);
    item.append(bubble);
    if (message.ts) item.append(this.timestamp(message.ts));
    if (message.from === "bot") this.decorate(item, message);
    if (message.buttons && message.buttons.length) item.append(this.quickReplies(message.buttons));
    this.log.append(item);
    if (live && message.from === "bot") this.setTyping(false);
    if (live && message.from === "bot" && !this.isOpen) this.setUnread(this.unread + 1);
    if (live && message.from === "bot") this.scrollToMessage(item);
    else this.scrollToEnd();
  }

  /** A new reply taller than the log is read from its top (a routine is long); a short one at the end. */
  scrollToMessage(item) {
    const top = item.offsetTop - this.log.offsetTop - 8;
    if (item.offsetHeight > this.log.clientHeight) this.log.scrollTop = Math.max(0, top);
    else this.scrollToEnd();
  }

  timestamp(ts) {
    const time = this.element("time", "time", timeFormat.format(new Date(ts)));
    time.dateTime = new Date(ts).toISOString();
    return time;
  }

  quickReplies(buttons) {
    const group = this.element("div", "replies");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Quick replies");
    for (const { title, payload } of buttons) {
      const button = this.element("button", "reply", title);
      button.type = "button";
      button.addEventListener("click", () => {
        this.onSend(payload, title);
        this.input.focus();
      });
      group.append(button);
    }
    return group;
  }

  clearQuickReplies() {
    this.log.querySelectorAll(".replies").forEach((group) => group.remove());
  }

  /** The dots under the last message while the bot thinks; gives up after 30 s. */
  setTyping(on) {
    this.typing.hidden = !on;
    clearTimeout(this.typingTimer);
    if (on) this.typingTimer = setTimeout(() => this.setTyping(false), 30000);
    this.scrollToEnd();
  }

  setStatus(status) {
    const text = STATUS_TEXT[status] || "";
    this.status.textContent = text;
    this.status.hidden = !text;
    this.panel.dataset.status = status;
    if (status !== "online") this.setTyping(false);
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  element(tag, className, text) {
    const el = this.root.ownerDocument.createElement(tag);
    el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }
}
