/** WCAG contrast helpers: brand colours are arbitrary, the text on them must stay readable (AA, 4.5:1). */

export const AA = 4.5;
const WHITE = [255, 255, 255];
const BLACK = [0, 0, 0];

export function parseRgb(css) {
  const parts = String(css).match(/[\d.]+/g);
  return parts && parts.length >= 3 ? parts.slice(0, 3).map(Number) : null;
}

export const toCss = ([r, g, b]) => `rgb(${Math.round(r)}, ${Math.round(g)}, ${Math.round(b)})`;

function channel(value) {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

export function luminance([r, g, b]) {
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** White or black, whichever reads better on ``background``. */
export function textOn(background) {
  return contrast(WHITE, background) >= contrast(BLACK, background) ? WHITE : BLACK;
}

/** ``color`` darkened just enough to read as text on ``background``. */
export function readableAccent(color, background = WHITE) {
  let rgb = color;
  for (let i = 0; i < 20 && contrast(rgb, background) < AA; i += 1) rgb = rgb.map((c) => c * 0.88);
  return rgb;
}

/** Any CSS colour -> [r, g, b], resolved by the browser; ``fallback`` when it is not a colour. */
export function resolveColor(css, probeParent, fallback) {
  const probe = probeParent.ownerDocument.createElement("span");
  probe.style.color = fallback;
  probe.style.color = css;
  probeParent.appendChild(probe);
  const rgb = parseRgb(getComputedStyle(probe).color);
  probe.remove();
  return rgb || parseRgb(fallback);
}
