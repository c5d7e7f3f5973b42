// The staff inbox: sign-in, the conversations list (live from inbox:<slug>, reloaded from the
// API at every (re)join), one conversation (history, live messages, take over, reply, hand
// back, close), staff presence and the customer's bookings. Only the public REST API and the
// hub (the stock phoenix client).
import { Presence, Socket, type Channel } from "phoenix";
import type { User, UserManager } from "oidc-client-ts";
import { SIGNED_OUT, rolesOf, signedIn, userManager } from "./auth";
import { AUTHORS, LABELS, STAFF_ROLES, readConfig, type InboxConfig } from "./config";
import { GROUPS, Inbox, groupOf, merged, ordered, type Message, type Session } from "./list";
import "./style.css";

const cfg = readConfig();
const app = document.getElementById("app")!;
const manager = userManager(cfg);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {},
  ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function screen(title: string, text: string, action?: [string, () => void],
                role = "alert"): void {
  const box = el("main", { class: "notice" }, el("h1", {}, title), el("p", { role }, text));
  if (action) {
    const button = el("button", { type: "button" }, action[0]);
    button.addEventListener("click", action[1]);
    box.append(button);
  }
  app.replaceChildren(box);
}

/** A refused API call: its HTTP status and the problem's words. */
class ApiError extends Error {
  constructor(readonly status: number, detail: string) {
    super(detail);
  }
}

class Api {
  constructor(private readonly cfg: InboxConfig, private readonly token: () => string) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await fetch(path, {
      method, headers: { Authorization: `Bearer ${this.token()}`, "X-Simptu-Tenant": this.cfg.tenant,
                         ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body) });
    if (!answer.ok) {
      const problem = await answer.json().catch(() => ({}));
      throw new ApiError(answer.status, problem.detail ?? `${method} ${path}: ${answer.status}`);
    }
    return (await answer.json()) as T;
  }

  async sessions(status: string, limit: number): Promise<Session[]> {
    return (await this.call<{ items: Session[] }>(
      "GET", `/v1/chat/sessions?status=${status}&limit=${limit}`)).items;
  }

  async history(id: string): Promise<Message[]> {
    let messages: Message[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Message[]; next_cursor: string | null } = await this.call(
        "GET", `/v1/chat/sessions/${id}/messages?limit=100` +
               (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""));
      messages = merged(messages, page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return messages;
  }
}

interface Booking { id: string; service_id: string; start: string; status: string }

function seenStore(subject: string): Map<string, number> {
  try {
    return new Map(Object.entries(JSON.parse(
      localStorage.getItem(`simptu-inbox:${cfg.tenant}:${subject}`) ?? "{}")));
  } catch {
    return new Map();
  }
}

async function run(user: User): Promise<void> {
  let current = user;
  manager.events.addUserLoaded((renewed) => { current = renewed; });
  const subject = current.profile.sub;
  const api = new Api(cfg, () => current.access_token);
  const inbox = new Inbox(seenStore(subject));
  const saveSeen = () => localStorage.setItem(`simptu-inbox:${cfg.tenant}:${subject}`,
                                              JSON.stringify(Object.fromEntries(inbox.seen)));
  const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  let services = new Map<string, string>();

  // The page's parts.
  const status = el("p", { role: "status", class: "status" }, "Connecting…");
  const presence = el("p", { class: "presence" });
  const logout = el("button", { type: "button", class: "secondary" }, "Sign out");
  const list = el("nav", { "aria-label": "Conversations" });
  const view = el("section", { class: "conversation", "aria-labelledby": "conversation-title" });
  const side = el("aside", { "aria-labelledby": "bookings-title" });
  const name = current.profile.preferred_username ?? current.profile.name ?? "";
  app.replaceChildren(
    el("header", {}, el("h1", {}, `${cfg.name} · Inbox`), status, presence,
       el("span", { class: "who" }, name), logout),
    el("main", { class: "layout" }, list, view, side));
  logout.addEventListener("click", () => {
    void manager.signoutRedirect({ id_token_hint: current.id_token });
  });

  let selected: string | null = null;
  let messages: Message[] = [];
  let streaming = new Map<string, string>();
  let chat: Channel | null = null;
  // What staff typed and not yet sent, per conversation: a re-render (a push) keeps it.
  const drafts = new Map<string, string>();
  // Other staff members with the open conversation on screen (its channel's presence).
  let othersHere = 0;

  function renderList(): void {
    const groups = ordered(inbox.sessions.values());
    const parts: HTMLElement[] = [el("h2", {}, "Conversations")];
    for (const group of GROUPS) {
      const sessions = groups.get(group)!;
      const items = sessions.map((session) => {
        const unread = inbox.unread.get(session.id) ?? 0;
        const button = el("button", { type: "button", class: "item", "data-session": session.id,
                                      "data-group": group },
          el("span", { class: `badge channel ${session.channel}` }, session.channel),
          el("span", { class: "title" }, session.guest ? "Visitor" : "Customer",
             ` · ${session.id.slice(0, 8)}`),
          el("span", { class: "when" }, fmt.format(new Date(session.updated_at))));
        if (unread > 0) {
          button.append(el("span", { class: "badge unread" }, String(unread)),
                        el("span", { class: "sr-only" }, " unread"));
        }
        if (session.id === selected) button.setAttribute("aria-current", "true");
        button.addEventListener("click", () => void select(session.id));
        return el("li", {}, button);
      });
      parts.push(el("section", { class: `group ${group}`, "aria-labelledby": `group-${group}` },
        el("h3", { id: `group-${group}` }, `${LABELS[group]} (${sessions.length})`),
        items.length ? el("ul", {}, ...items) : el("p", { class: "empty" }, "None")));
    }
    list.replaceChildren(...parts);
  }

  function renderView(): void {
    const session = selected ? inbox.sessions.get(selected) : undefined;
    if (!session) {
      view.replaceChildren(el("h2", { id: "conversation-title" }, "No conversation open"),
                           el("p", {}, "Choose a conversation in the list."));
      side.replaceChildren(el("h2", { id: "bookings-title" }, "Bookings"));
      return;
    }
    const group = groupOf(session);
    const mine = session.taken_over_by === subject;
    const state = { waiting: "waiting for staff", "with-staff": mine ? "with you" : "with staff",
                    open: "with the assistant", closed: "closed" }[group];
    const actions = el("div", { class: "actions" });
    const action = (label: string, path: string) => {
      const button = el("button", { type: "button" }, label);
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          inbox.put(await api.call<Session>("POST", `/v1/chat/sessions/${session.id}/${path}`,
                                            path === "handoff" ? {} : undefined));
          status.textContent = `${label}: done`;
        } catch (error) {
          status.textContent = `${label} failed: ${(error as Error).message}`;
        }
        renderList();
        renderView();
      });
      actions.append(button);
    };
    if (session.status !== "closed" && !mine) action("Take over", "handoff");
    if (session.status === "handed_off") action("Hand back to the assistant", "handback");
    if (session.status !== "closed") action("Close", "close");
    const log = el("div", { class: "messages", role: "log", "aria-label": "Messages" });
    for (const message of messages) {
      log.append(el("div", { class: `msg ${message.author}`, "data-seq": String(message.seq) },
        el("span", { class: "author" }, AUTHORS[message.author] ?? message.author),
        el("span", { class: "text" }, message.text)));
    }
    for (const [id, text] of streaming) {
      log.append(el("div", { class: "msg agent streaming", "data-id": id, "aria-hidden": "true" },
        el("span", { class: "author" }, AUTHORS.agent), el("span", { class: "text" }, text)));
    }
    const parts: HTMLElement[] = [
      el("h2", { id: "conversation-title" },
         `${session.guest ? "Visitor" : "Customer"} · ${session.channel} · ${state}`),
      actions];
    if (othersHere > 0) {
      parts.push(el("p", { class: "viewers" }, othersHere === 1
        ? "Another staff member has this conversation open."
        : `${othersHere} other staff members have this conversation open.`));
    }
    parts.push(log);
    if (session.status === "handed_off" && mine) {
      const input = el("textarea", { id: "reply", rows: "3", required: "" });
      input.value = drafts.get(session.id) ?? "";
      input.addEventListener("input", () => drafts.set(session.id, input.value));
      const form = el("form", { class: "reply" }, el("label", { for: "reply" }, "Reply"), input,
                      el("button", { type: "submit" }, "Send"));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        input.value = "";
        drafts.delete(session.id);
        try {
          const sent = await api.call<Message>("POST", `/v1/chat/sessions/${session.id}/messages`,
                                               { text, client_msg_id: crypto.randomUUID() });
          messages = merged(messages, [sent]);
          renderView();
          document.getElementById("reply")?.focus();
        } catch (error) {
          drafts.set(session.id, text);
          renderView();
          status.textContent = `Not sent: ${(error as Error).message}`;
        }
      });
      parts.push(form);
    } else if (session.status !== "closed") {
      parts.push(el("p", { class: "hint" }, "Take the conversation over to reply."));
    }
    const focused = document.activeElement?.id;
    view.replaceChildren(...parts);
    log.scrollTop = log.scrollHeight;
    if (focused === "reply") document.getElementById("reply")?.focus();
  }

  async function renderBookings(session: Session): Promise<void> {
    const title = el("h2", { id: "bookings-title" }, "Bookings");
    if (!session.customer_id) {
      side.replaceChildren(title, el("p", {}, "No customer is linked to this conversation yet."));
      return;
    }
    try {
      if (!services.size) {
        const found = await api.call<{ items: { id: string; name: string }[] }>(
          "GET", "/v1/services");
        services = new Map(found.items.map((service) => [service.id, service.name]));
      }
      const page = await api.call<{ items: Booking[] }>(
        "GET", `/v1/bookings?customer_id=${session.customer_id}&limit=50`);
      side.replaceChildren(title, page.items.length
        ? el("ul", { class: "bookings" }, ...page.items.map((booking) => el("li", {},
            el("span", { class: "service" }, services.get(booking.service_id) ?? "Service"),
            el("span", {}, fmt.format(new Date(booking.start))),
            el("span", { class: `booking ${booking.status}` }, booking.status))))
        : el("p", {}, "No bookings."));
    } catch (error) {
      side.replaceChildren(title, el("p", { role: "alert" }, (error as Error).message));
    }
  }

  /** Runs `read`; a session gone meanwhile (a 404: deleted) leaves the list instead. */
  async function unlessGone(id: string, read: () => Promise<void>): Promise<void> {
    try {
      await read();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      inbox.sessions.delete(id);
      inbox.unread.delete(id);
    }
  }

  /** A conversation waiting for staff: its customer's messages not yet seen here. */
  async function countUnread(id: string): Promise<void> {
    await unlessGone(id, async () => inbox.counted(id, await api.history(id)));
  }

  /** One session read again, and its unread count if it is with staff. */
  async function refresh(id: string): Promise<void> {
    await unlessGone(id, async () => {
      const session = await api.call<Session>("GET", `/v1/chat/sessions/${id}`);
      inbox.put(session);
      if (session.status === "handed_off" && id !== selected) await countUnread(id);
    });
  }

  async function select(id: string): Promise<void> {
    selected = id;
    messages = [];
    streaming = new Map();
    othersHere = 0;
    chat?.leave();
    chat = socket.channel(`chat:${id}`, {});
    const viewers = new Presence(chat);
    viewers.onSync(() => {
      if (selected !== id) return;
      othersHere = viewers.list((key, { metas }) => ({ key, role: metas[0]?.role as string }))
        .filter((entry) => entry.key !== subject && STAFF_ROLES.includes(entry.role)).length;
      renderView();
    });
    chat.on("message", (push) => {
      if (selected !== id) return;
      messages = merged(messages, [{ id: push.message_id, seq: push.seq, author: push.author,
                                     text: push.text }]);
      inbox.read(id, push.seq);
      saveSeen();
      renderView();
    });
    chat.on("reply_delta", (push) => {
      if (selected !== id) return;
      streaming.set(push.message_id, (streaming.get(push.message_id) ?? "") + push.delta);
      renderView();
    });
    chat.on("reply", (push) => {
      if (selected !== id) return;
      streaming.delete(push.message_id);
      messages = merged(messages, [{ id: push.message_id, seq: push.seq, author: "agent",
                                     text: push.text }]);
      renderView();
    });
    chat.join().receive("ok", async () => {
      // At every (re)join: the whole history again, merged with what was pushed meanwhile.
      const history = await api.history(id);
      if (selected !== id) return;
      messages = merged(messages, history);
      inbox.read(id, Math.max(0, ...messages.map((message) => message.seq)));
      saveSeen();
      renderList();
      renderView();
    });
    renderList();
    renderView();
    const session = inbox.sessions.get(id);
    if (session) await renderBookings(session);
  }

  async function reload(): Promise<void> {
    const [withStaff, open, closed] = await Promise.all([
      api.sessions("handed_off", 100), api.sessions("open", 50), api.sessions("closed", 20)]);
    inbox.load([...withStaff, ...open, ...closed]);
    await Promise.all(withStaff.filter((session) => session.id !== selected)
      .map((session) => countUnread(session.id)));
    renderList();
    renderView();
    app.dataset.state = "live"; // joined and loaded: what tests and the benchmark wait for
  }

  const socket = new Socket(cfg.ws, { params: () => ({ token: current.access_token }) });
  socket.onError(() => { status.textContent = "Connection lost, reconnecting…"; });
  const channel = socket.channel(`inbox:${cfg.tenant}`, {});
  const staff = new Presence(channel);
  staff.onSync(() => {
    const online = staff.list((key, { metas }) => ({ key, role: metas[0]?.role as string }))
      .filter((entry) => STAFF_ROLES.includes(entry.role));
    presence.textContent = `Staff online: ${online.length}`;
  });
  for (const event of ["conversation_opened", "handoff_requested", "conversation_handed_back",
                       "conversation_closed"]) {
    channel.on(event, ({ session_id }) => {
      refresh(session_id).then(() => { renderList(); renderView(); }, (error: Error) => {
        status.textContent = `Not updated: ${error.message}`;
      });
    });
  }
  channel.on("message_received", ({ session_id, seq }) => {
    const known = inbox.sessions.has(session_id);
    inbox.received(session_id, seq, session_id === selected);
    if (session_id === selected) saveSeen();
    if (!known) refresh(session_id).then(renderList, () => undefined);
    else renderList();
  });
  channel.join()
    .receive("ok", () => {
      status.textContent = "Connected";
      delete app.dataset.state;
      reload().catch((error) => { status.textContent = `Not loaded: ${error.message}`; });
    })
    .receive("error", ({ detail }: { detail?: string }) => {
      screen("The inbox cannot open", detail ?? "The hub refused this account.");
    });
  socket.connect();
  renderList();
  renderView();
}

async function main(manager: UserManager): Promise<void> {
  if (new URLSearchParams(location.search).has(SIGNED_OUT)) {
    history.replaceState(null, "", location.pathname);
    screen("Signed out", `You signed out of the ${cfg.name} inbox.`,
           ["Sign in", () => void manager.signinRedirect()], "status");
    return;
  }
  let user: User | null;
  try {
    user = await signedIn(manager);
  } catch (error) {
    screen("Sign-in failed", (error as Error).message,
           ["Sign in again", () => void manager.signinRedirect()]);
    return;
  }
  if (!user) {
    await manager.signinRedirect();
    return;
  }
  if (!rolesOf(user.access_token).some((role) => STAFF_ROLES.includes(role))) {
    const who = user.profile.preferred_username ?? "This account";
    const signedInAs = user;
    screen("No access to the inbox",
           `${who} is not on the staff of ${cfg.name}: the inbox is for its staff and ` +
           "administrators. Sign in with a staff account.",
           ["Sign out", () => void manager.signoutRedirect({ id_token_hint: signedInAs.id_token })]);
    return;
  }
  await run(user);
}

void main(manager).catch((error: Error) => screen("The inbox cannot open", error.message));
