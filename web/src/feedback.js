/**
 * Answer feedback: a discreet 👍/👎 under each protocol answer, and an optional one-line "what was missing?"
 * after a 👎. The server marks the answers that can be rated (``feedback: {id, labels}`` on the answer's last
 * part; every word shown comes from the knowledge base through it), takes a rating as the user message
 * ``/feedback`` with ``metadata.feedback`` and answers ``{feedback_ack: {id, text, ask?}}``, shown in place
 * of the buttons (addons/feedback.py, actions/feedback.py).
 *
 * Keyboard and screen readers: the buttons are real buttons in a labelled group, with their own names
 * ("Helpful", "Not helpful") and aria-pressed; the thank-you is a status message; after a 👎 the comment box
 * takes the focus and has its own label.
 */

const MAX_COMMENT = 300;

/** An answer's feedback record from the server (id + labels), or null. */
export function normaliseFeedback(value) {
  if (!value || typeof value !== "object" || typeof value.id !== "string" || !value.id) return null;
  const labels = {};
  const given = value.labels && typeof value.labels === "object" ? value.labels : {};
  for (const name of ["ask", "up", "down", "missing", "send"]) {
    if (typeof given[name] === "string") labels[name] = given[name];
  }
  return { id: value.id, labels };
}

export class Ratings {
  /**
   * @param {Document} document  where elements are made
   * @param {{send: Function, save: Function}} handlers  send(metadata): a /feedback message; save(): keep state
   */
  constructor(document, { send, save }) {
    this.document = document;
    this.send = send;
    this.save = save;
    this.shown = new Map(); // answer id -> {record, box}
  }

  element(tag, className, text) {
    const el = this.document.createElement(tag);
    el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  /** The controls under a bot message that can be rated (called by the view for every message it adds). */
  decorate(item, message) {
    const record = message.feedback;
    if (!record || !record.id) return;
    const box = this.element("div", "feedback");
    this.shown.set(record.id, { record, box });
    if (record.thanks) this.thank(box, record.thanks);
    else this.buttons(box, record);
    item.append(box);
  }

  buttons(box, record) {
    const labels = record.labels || {};
    box.replaceChildren();
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", labels.ask || "Feedback");
    box.append(this.element("span", "feedback-ask", labels.ask || ""));
    for (const [rating, emoji] of [["up", "👍"], ["down", "👎"]]) {
      const button = this.element("button", `rate rate-${rating}`);
      button.type = "button";
      button.setAttribute("aria-label", labels[rating] || rating);
      button.setAttribute("aria-pressed", String(record.rated === rating));
      button.title = labels[rating] || "";
      const face = this.element("span", "emoji", emoji);
      face.setAttribute("aria-hidden", "true");
      button.append(face);
      button.addEventListener("click", () => this.rate(record, rating, box));
      box.append(button);
    }
  }

  rate(record, rating, box) {
    record.rated = rating;
    box.querySelectorAll(".rate").forEach((b) => b.setAttribute("aria-pressed", String(b.classList.contains(`rate-${rating}`))));
    this.focusComment = rating === "down";
    this.save();
    this.send({ feedback: { id: record.id, rating } });
  }

  /** The server stored the rating: the thank-you in place of the buttons; after a 👎, the comment box. */
  acknowledged(ack) {
    const shown = ack && this.shown.get(ack.id);
    if (!shown) return;
    const { record, box } = shown;
    record.thanks = typeof ack.text === "string" ? ack.text : "";
    this.save();
    this.thank(box, record.thanks);
    if (typeof ack.ask === "string" && ack.ask) this.commentBox(box, record, ack);
  }

  thank(box, text) {
    box.replaceChildren();
    box.removeAttribute("aria-label");
    box.setAttribute("role", "group");
    const thanks = this.element("p", "feedback-thanks", text);
    thanks.setAttribute("role", "status");
    box.append(thanks);
  }

  commentBox(box, record, ack) {
    const form = this.element("form", "feedback-comment");
    const id = `feedback-${record.id}`;
    const label = this.element("label", "feedback-label", ack.ask);
    label.htmlFor = id;
    const input = this.element("input", "feedback-input");
    Object.assign(input, { id, type: "text", maxLength: MAX_COMMENT, autocomplete: "off" });
    const submit = this.element("button", "feedback-send", ack.send || "Send");
    submit.type = "submit";
    form.append(label, input, submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const comment = input.value.trim();
      if (!comment) return;
      form.remove();
      this.send({ feedback: { id: record.id, comment } });
    });
    box.append(form);
    if (this.focusComment) input.focus();
    this.focusComment = false;
  }
}
