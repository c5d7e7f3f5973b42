// What the snippet's attributes say, with the defaults a clinic's page gets without them.

export type Locale = "ro" | "en";

const TEXT = {
  ro: {
    open: "Deschide chatul", close: "Închide chatul", title: "Asistentul nostru",
    input: "Scrieți un mesaj", send: "Trimite", connecting: "Se conectează…",
    online: "Conectat", reconnecting: "Conexiunea s-a întrerupt; se reconectează…",
    typing: "Asistentul scrie…", refused: "Chatul nu este disponibil pe acest site.",
    failed: "Chatul nu este disponibil acum. Încercați din nou mai târziu.",
    yes: "Da, confirm", no: "Nu", pick: "Alegeți o oră", confirm: "Confirmați programarea?",
    you: "Dumneavoastră", agent: "Asistent", staff: "Recepție", done: "Răspuns trimis",
  },
  en: {
    open: "Open the chat", close: "Close the chat", title: "Our assistant",
    input: "Write a message", send: "Send", connecting: "Connecting…",
    online: "Connected", reconnecting: "Connection lost; reconnecting…",
    typing: "The assistant is typing…", refused: "The chat is not available on this site.",
    failed: "The chat is not available right now. Please try again later.",
    yes: "Yes, confirm", no: "No", pick: "Pick a time", confirm: "Confirm the booking?",
    you: "You", agent: "Assistant", staff: "Reception", done: "Answer sent",
  },
};

export type Text = (typeof TEXT)["en"];

export interface WidgetConfig {
  tenant: string;
  locale: Locale;
  text: Text;
  api: string; // the API's origin (and path prefix), no trailing slash
  ws: string; // the hub's socket endpoint, e.g. wss://api.example/socket
  assets: string; // the folder this file came from, where the chat module is
  accent: string;
  theme?: "light" | "dark";
}

/** The visitor's own language when the widget speaks it, else the tenant's, else English. */
export function localeOf(tenant: string | null | undefined, browser: readonly string[]): Locale {
  for (const tag of [...browser, tenant ?? ""]) {
    const language = tag.toLowerCase().slice(0, 2);
    if (language === "ro" || language === "en") return language;
  }
  return "en";
}

export function config(script: HTMLScriptElement, browser: readonly string[]): WidgetConfig {
  const data = script.dataset;
  const src = new URL(script.src, document.baseURI);
  const api = (data.api ?? src.origin).replace(/\/$/, "");
  const apiUrl = new URL(api);
  const ws = data.ws || `${apiUrl.protocol === "https:" ? "wss" : "ws"}://${apiUrl.host}/socket`;
  const locale = localeOf(data.locale, browser);
  const theme = data.theme === "dark" || data.theme === "light" ? data.theme : undefined;
  return { tenant: data.tenant ?? "", locale, text: TEXT[locale], api, ws,
           assets: new URL(".", src).href, accent: data.accent ?? "#0b5cad", theme };
}
