// The chat panel, imported when the visitor opens it: a guest session from the API (kept in
// first-party storage), the conversation joined on the hub with the stock phoenix client, and
// a view rebuilt from the Transcript after every push.

import { Socket, type Channel } from "phoenix";
import type { WidgetConfig } from "./config";
import { CHAT_CSS } from "./styles";
import { storeSession, storedSession, type StoredSession } from "./storage";
import { Transcript, type Bubble, type Call } from "./transcript";

const PUSHES = ["message", "reply_delta", "reply", "function_call"] as const;

export class GuestRefused extends Error {}

/** Too many new conversations from this address: try again after `seconds`. */
export class GuestLimited extends Error {
  constructor(readonly seconds: number) { super("rate-limited"); }
}

export async function guestSession(cfg: WidgetConfig): Promise<StoredSession> {
  const stored = storedSession(cfg.tenant);
  if (stored) return stored;
  const answer = await fetch(`${cfg.api}/v1/chat/guest`, {
    method: "POST", credentials: "omit",
    headers: { "Content-Type": "application/json", "X-Simptu-Tenant": cfg.tenant },
    body: JSON.stringify({ locale: cfg.locale }),
  });
  if (answer.status === 403) throw new GuestRefused("origin-not-allowed");
  if (answer.status === 429) throw new GuestLimited(Number(answer.headers.get("Retry-After")) || 30);
  if (!answer.ok) throw new Error(`guest session: ${answer.status}`);
  const body = (await answer.json()) as { token: string; session_id: string; expires_at: string };
  return { sessionId: body.session_id, token: body.token, expiresAt: body.expires_at, open: true };
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {},
                                                        text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function when(value: unknown, locale: string): string {
  const date = typeof value === "string" ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) return String(value ?? "");
  return date.toLocaleString(locale === "ro" ? "ro-RO" : "en-GB",
                             { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
}

export function mount(root: ShadowRoot, cfg: WidgetConfig, close: () => void) {
  const t = cfg.text;
  const style = element("style");
  style.textContent = CHAT_CSS;
  const panel = element("section", { class: "panel", role: "dialog", "aria-modal": "false",
                                     "aria-labelledby": "simptu-title", lang: cfg.locale });
  const header = element("header");
  const closeButton = element("button", { type: "button", "aria-label": t.close }, "×");
  header.append(element("h2", { id: "simptu-title" }, t.title), closeButton);
  const status = element("div", { class: "status", role: "status" }, t.connecting);
  const log = element("div", { class: "log", role: "log", "aria-live": "polite",
                               "aria-label": t.title, tabindex: "0" });
  const form = element("form");
  const input = element("textarea", { "aria-label": t.input, placeholder: t.input, rows: "1",
                                      enterkeyhint: "send", maxlength: "4000" });
  form.append(input, element("button", { type: "submit" }, t.send));
  panel.append(header, status, log, form);
  root.append(style, panel);

  const transcript = new Transcript();
  const shown = new Map<string, HTMLElement>(); // entry id -> its node in the log
  let channel: Channel | undefined;
  let session: StoredSession | undefined;

  const say = (text: string): void => { status.textContent = text; };

  function bubbleNode(bubble: Bubble): HTMLElement {
    const who = { customer: t.you, agent: t.agent, staff: t.staff }[bubble.author] ?? t.agent;
    const node = element("div", { class: `msg ${bubble.author}`, "data-id": bubble.id });
    // A reply still streaming is hidden from the live region: it is announced once, whole.
    if (bubble.streaming) node.setAttribute("aria-hidden", "true");
    node.append(element("span", { class: "who" }, `${who}: `), document.createTextNode(bubble.text));
    return node;
  }

  function answer(call: Call, result: Record<string, unknown>): void {
    transcript.answered(call.id);
    channel?.push("function_result", { call_id: call.id, result });
    render();
    input.focus();
  }

  function callNode(call: Call): HTMLElement {
    const node = element("div", { class: "card", "data-call": call.name, role: "group" });
    const choices = element("div", { class: "choices" });
    const args = call.arguments;
    if (call.name === "confirm_booking") {
      const what = [args.service, args.resource, args.room, when(args.start ?? args.check_in, cfg.locale)]
        .filter((part) => part !== undefined && part !== "").join(", ");
      node.setAttribute("aria-label", t.confirm);
      node.append(element("p", {}, `${t.confirm} ${what}`));
      const yes = element("button", { type: "button", class: "primary" }, t.yes);
      const no = element("button", { type: "button" }, t.no);
      yes.addEventListener("click", () => answer(call, { confirmed: true }));
      no.addEventListener("click", () => answer(call, { confirmed: false }));
      choices.append(yes, no);
    } else if (call.name === "choose_slot" && Array.isArray(args.slots)) {
      // The slot picker: the times the reply names ({start, time, label}); a pick answers as
      // if the visitor had typed that time.
      node.setAttribute("aria-label", t.pick);
      node.append(element("p", {}, t.pick));
      for (const slot of args.slots as Array<Record<string, unknown>>) {
        const label = typeof slot.label === "string" ? slot.label : when(slot.start, cfg.locale);
        const pick = element("button", { type: "button", "aria-label": label },
                             typeof slot.time === "string" ? slot.time : label);
        pick.addEventListener("click", () => answer(call, { slot }));
        choices.append(pick);
      }
    } else { // a call this widget does not know: shown as text, answered by typing
      node.append(element("p", {}, `${call.name}: ${JSON.stringify(args)}`));
      return node;
    }
    if (call.answered) {
      for (const button of choices.querySelectorAll("button")) button.disabled = true;
      choices.setAttribute("aria-label", t.done);
    }
    node.append(choices);
    return node;
  }

  function render(): void {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const keep = new Set<string>();
    let previous: Element | null = null;
    for (const entry of transcript.entries) {
      const id = `${entry.kind}:${entry.id}`;
      keep.add(id);
      const fresh = entry.kind === "bubble" ? bubbleNode(entry) : callNode(entry);
      const old = shown.get(id);
      const unchanged = old && old.outerHTML === fresh.outerHTML;
      // A reply that just became whole is appended anew, so the live region announces it.
      const node = unchanged ? old : fresh;
      if (!unchanged) {
        old?.remove();
        shown.set(id, node);
      }
      const at: Element | null = previous ? previous.nextElementSibling : log.firstElementChild;
      if (at !== node) log.insertBefore(node, at);
      previous = node;
    }
    for (const [id, node] of shown) if (!keep.has(id)) { node.remove(); shown.delete(id); }
    if (atBottom || transcript.streaming) log.scrollTop = log.scrollHeight;
  }

  function join(current: StoredSession): void {
    const socket = new Socket(cfg.ws, { params: { token: current.token } });
    socket.onError(() => say(t.reconnecting));
    socket.onOpen(() => say(t.connecting));
    // Read at every (re)join: the hub sends what this page missed, in order, once.
    const params = (() => ({ last_event_id: transcript.lastEventId })) as unknown as object;
    channel = socket.channel(`chat:${current.sessionId}`, params);
    for (const event of PUSHES) {
      channel.on(event, (push) => { if (transcript.apply(event, push)) render(); });
    }
    channel.on("typing", ({ typing }) => say(typing ? t.typing : t.online));
    channel.join()
      .receive("ok", () => say(t.online))
      .receive("error", ({ reason }: { reason?: string }) => {
        if (reason === "invalid-token" || reason === "unknown-session") {
          socket.disconnect(); // the stored conversation is gone: start a new one
          localStorage.removeItem(`simptu-chat:${cfg.tenant}`);
          void start();
        } else say(t.failed);
      });
    socket.connect();
  }

  async function start(): Promise<void> {
    try {
      session = await guestSession(cfg);
    } catch (error) {
      say(error instanceof GuestRefused ? t.refused : t.failed);
      input.disabled = true;
      if (error instanceof GuestLimited) {
        setTimeout(() => { input.disabled = false; void start(); }, error.seconds * 1000);
      }
      return;
    }
    storeSession(cfg.tenant, { ...session, open: true });
    join(session);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !channel) return;
    const clientMsgId = crypto.randomUUID();
    transcript.sending(clientMsgId, text);
    channel.push("message", { text, client_msg_id: clientMsgId });
    input.value = "";
    render();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  // The keyboard of a phone shrinks the visual viewport: keep the last message in view.
  window.visualViewport?.addEventListener("resize", () => { log.scrollTop = log.scrollHeight; });
  panel.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
  closeButton.addEventListener("click", () => close());
  void start();

  return {
    focus: () => input.focus(),
    show: () => {
      panel.hidden = false;
      if (session) storeSession(cfg.tenant, { ...session, open: true });
    },
    hide: () => {
      panel.hidden = true;
      if (session) storeSession(cfg.tenant, { ...session, open: false });
    },
  };
}
