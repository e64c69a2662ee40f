/** Bot text -> safe HTML: markdown through marked, then DOMPurify with a short allow-list. */
import { Marked } from "marked";
import createDOMPurify from "dompurify";

const ALLOWED_TAGS = ["p", "br", "strong", "em", "b", "i", "del", "ul", "ol", "li", "a", "code", "pre", "blockquote"];
const SAFE_URL = /^(?:https?:\/\/|mailto:)/i;

const marked = new Marked({ gfm: true, breaks: true, async: false });

/** Links: http(s) and mailto: (a brand's contact) only, opened in a new tab without access to this page. */
function makePurifier(window) {
  const purifier = createDOMPurify(window);
  purifier.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName !== "A") return;
    const href = node.getAttribute("href") || "";
    if (!SAFE_URL.test(href)) {
      node.removeAttribute("href");
      return;
    }
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  });
  return purifier;
}

let purifier = null;

export function renderMarkdown(text, window) {
  purifier = purifier || makePurifier(window);
  const html = marked.parse(String(text));
  return purifier.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ["href"],
    ALLOWED_URI_REGEXP: SAFE_URL,
  });
}
