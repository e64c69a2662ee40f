/** Widget settings, read from the embedding <script> tag's data- attributes. */

export const DEFAULTS = Object.freeze({
  title: "Chat", // a label, not a name: the assistant's name is the page's data-title (the knowledge base's)
  primaryColor: "#5b3f8c",
  greeting: "Hi! I can guide you through your exosome-serum routine. Ask me anything, or say **walk me through it**.",
  socketPath: "/socket.io",
  rasaPort: 5005,
});

/** Without data-server-url: the page's own host, on Rasa's default port. */
export function defaultServerUrl(location) {
  const protocol = location.protocol === "https:" ? "https:" : "http:";
  const host = location.hostname || "localhost";
  const bracketed = host.includes(":") ? `[${host}]` : host;
  return `${protocol}//${bracketed}:${DEFAULTS.rasaPort}`;
}

/** The <script> element that loaded the widget (currentScript, else the first script ending in widget.js). */
export function findScript(document) {
  return document.currentScript || document.querySelector('script[src$="widget.js"], script[data-server-url]');
}

export function readConfig(script, location) {
  const data = (script && script.dataset) || {};
  return {
    serverUrl: (data.serverUrl || defaultServerUrl(location)).replace(/\/+$/, ""),
    socketPath: data.socketPath || DEFAULTS.socketPath,
    title: data.title || DEFAULTS.title,
    primaryColor: data.primaryColor || DEFAULTS.primaryColor,
    greeting: data.greeting === undefined ? DEFAULTS.greeting : data.greeting,
  };
}
