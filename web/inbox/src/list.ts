// The conversations list: sessions as the API gives them, merged with what the hub pushes on
// inbox:<slug>, in the order staff work through them, with the unread counts of this browser.
// Pure logic (no DOM), so Vitest checks it.

export type Status = "open" | "handed_off" | "closed";
export type HandedBy = "agent" | "customer" | "staff" | "system";

export interface Session {
  id: string;
  channel: string;
  status: Status;
  customer_id: string | null;
  guest: boolean;
  locale: string;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  handed_off_by: HandedBy | null;
  taken_over_by: string | null;
}

export interface Message {
  id: string;
  seq: number;
  author: "customer" | "agent" | "staff" | "system";
  text: string;
  created_at?: string;
}

// The groups, in the order they are listed.
export type Group = "waiting" | "with-staff" | "open" | "closed";
export const GROUPS: readonly Group[] = ["waiting", "with-staff", "open", "closed"];

export function groupOf(session: Session): Group {
  if (session.status === "closed") return "closed";
  if (session.status === "open") return "open";
  return session.handed_off_by === "staff" ? "with-staff" : "waiting";
}

/** The sessions by group, each group's newest change first. */
export function ordered(sessions: Iterable<Session>): Map<Group, Session[]> {
  const groups = new Map<Group, Session[]>(GROUPS.map((group) => [group, []]));
  for (const session of sessions) groups.get(groupOf(session))!.push(session);
  for (const list of groups.values()) {
    list.sort((a, b) => b.updated_at.localeCompare(a.updated_at) || b.id.localeCompare(a.id));
  }
  return groups;
}

/** The customer's messages after the last one this staff member saw. */
export function unreadIn(messages: readonly Message[], seen: number): number {
  return messages.filter((message) => message.author === "customer" && message.seq > seen).length;
}

/** What the list holds: the sessions, and per session the last customer message seen (by
 * seq; kept by the page in localStorage) and the unread count. */
export class Inbox {
  readonly sessions = new Map<string, Session>();
  readonly unread = new Map<string, number>();
  // The newest customer message counted per session (a push may repeat one a history page
  // brought).
  private readonly latest = new Map<string, number>();

  constructor(readonly seen: Map<string, number> = new Map()) {}

  /** A page of sessions from the API (a reload after a (re)join): the API's copy wins, as it is
   * at least as new as anything pushed before the reload began. */
  load(page: readonly Session[]): void {
    for (const session of page) this.put(session);
  }

  /** One session as the API answers it now. A session changed in between (its `updated_at`)
   * replaces the older copy; an older answer (a slow reply overtaken) is dropped. */
  put(session: Session): boolean {
    const known = this.sessions.get(session.id);
    if (known && known.updated_at > session.updated_at) return false;
    this.sessions.set(session.id, session);
    return true;
  }

  /** The unread count from a session's history (the API's pages). */
  counted(sessionId: string, messages: readonly Message[]): void {
    this.unread.set(sessionId, unreadIn(messages, this.seen.get(sessionId) ?? 0));
    const customer = messages.filter((message) => message.author === "customer");
    this.latest.set(sessionId, Math.max(0, ...customer.map((message) => message.seq)));
  }

  /** A customer's message pushed live (`message_received`): one more unread, unless open on
   * screen (then it is seen at once). Returns false for a message counted already. */
  received(sessionId: string, seq: number, onScreen: boolean): boolean {
    const seen = Math.max(this.seen.get(sessionId) ?? 0, this.latest.get(sessionId) ?? 0);
    if (seq <= seen) return false;
    this.latest.set(sessionId, seq);
    if (onScreen) {
      this.seen.set(sessionId, seq);
      this.unread.set(sessionId, 0);
    } else {
      this.unread.set(sessionId, (this.unread.get(sessionId) ?? 0) + 1);
    }
    return true;
  }

  /** Staff opened the conversation up to `seq`: nothing unread. */
  read(sessionId: string, seq: number): void {
    this.seen.set(sessionId, Math.max(seq, this.seen.get(sessionId) ?? 0));
    this.unread.set(sessionId, 0);
  }
}

/** A conversation's messages: history pages and live pushes merged by id, in seq order, each
 * once (a push may repeat a message a history page brought). */
export function merged(current: readonly Message[], more: readonly Message[]): Message[] {
  const byId = new Map(current.map((message) => [message.id, message]));
  for (const message of more) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}
