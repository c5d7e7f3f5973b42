// The conversation as the widget shows it, built from the hub's pushes alone, so a replayed or
// repeated push (a resume with last_event_id, a second tab, a hub that restarted) changes
// nothing twice. Pure: no DOM, no socket; the view renders `entries` after each change.

export type Author = "customer" | "agent" | "staff";

export interface Bubble {
  kind: "bubble";
  id: string; // message_id, or `pending:<client_msg_id>` until the hub confirms it
  author: Author;
  text: string;
  streaming: boolean; // deltas so far; the whole reply replaces them
}

export interface Call {
  kind: "call";
  id: string; // call_id
  name: string;
  arguments: Record<string, unknown>;
  answered: boolean;
  after?: string; // the reply it belongs to (its deltas came first; the whole reply may follow)
}

export type Entry = Bubble | Call;

export interface Push {
  event_id?: number;
  [field: string]: unknown;
}

export class Transcript {
  entries: Entry[] = [];
  lastEventId = -1; // what a (re)join asks the hub to resume after
  private deltas = new Map<string, Map<number, string>>(); // message_id -> seq -> piece

  /** Apply one push; true when something the visitor sees changed. */
  apply(event: string, push: Push): boolean {
    if (typeof push.event_id === "number") {
      if (push.event_id <= this.lastEventId) return false; // replayed: already applied
      this.lastEventId = push.event_id;
    }
    switch (event) {
      case "message":
        return this.message(push);
      case "reply_delta":
        return this.delta(push);
      case "reply":
        return this.reply(push);
      case "function_call":
        return this.call(push);
      default:
        return false;
    }
  }

  /** The visitor's own message, shown at once; the hub's `message` push confirms it. */
  sending(clientMsgId: string, text: string): void {
    this.entries.push({ kind: "bubble", id: `pending:${clientMsgId}`, author: "customer", text,
                        streaming: false });
  }

  answered(callId: string): void {
    const call = this.entries.find((e) => e.kind === "call" && e.id === callId);
    if (call && call.kind === "call") call.answered = true;
  }

  /** The reply streaming now, if any (its text is not announced until it is whole). */
  get streaming(): Bubble | undefined {
    return this.bubbles().find((b) => b.streaming);
  }

  // What the hub sends goes before the visitor's messages still unconfirmed: a page that sent
  // one while its history was being replayed (just after a reload) shows the history first.
  private add(entry: Entry): void {
    const firstPending = this.entries.findIndex((e) => e.id.startsWith("pending:"));
    this.entries.splice(firstPending < 0 ? this.entries.length : firstPending, 0, entry);
  }

  private bubbles(): Bubble[] {
    return this.entries.filter((e): e is Bubble => e.kind === "bubble");
  }

  private find(id: string): Bubble | undefined {
    return this.bubbles().find((b) => b.id === id);
  }

  private message(push: Push): boolean {
    const id = String(push.message_id);
    if (this.find(id)) return false;
    const author = (push.author as Author) ?? "customer";
    const mine = push.client_msg_id ? this.find(`pending:${String(push.client_msg_id)}`) : undefined;
    if (mine) {
      mine.id = id; // confirmed in place: shown once
    } else {
      this.add({ kind: "bubble", id, author, text: String(push.text ?? ""),
                          streaming: false });
    }
    this.settleCalls();
    return !mine;
  }

  private delta(push: Push): boolean {
    const id = String(push.message_id);
    const existing = this.find(id);
    if (existing && !existing.streaming) return false; // the whole reply is already here
    const pieces = this.deltas.get(id) ?? new Map<number, string>();
    const seq = Number(push.seq);
    if (pieces.has(seq)) return false;
    pieces.set(seq, String(push.delta ?? ""));
    this.deltas.set(id, pieces);
    const text = [...pieces.entries()].sort((a, b) => a[0] - b[0]).map((p) => p[1]).join("");
    if (existing) existing.text = text;
    else {
      this.settleCalls(id);
      this.add({ kind: "bubble", id, author: "agent", text, streaming: true });
    }
    return true;
  }

  private reply(push: Push): boolean {
    const id = String(push.message_id);
    const text = String(push.text ?? "");
    this.deltas.delete(id);
    const existing = this.find(id);
    if (existing) {
      const changed = existing.streaming || existing.text !== text;
      existing.text = text;
      existing.streaming = false;
      return changed;
    }
    this.settleCalls(id);
    this.add({ kind: "bubble", id, author: "agent", text, streaming: false });
    return true;
  }

  private call(push: Push): boolean {
    const id = String(push.call_id);
    if (this.entries.some((e) => e.kind === "call" && e.id === id)) return false;
    this.add({ kind: "call", id, name: String(push.name),
                        arguments: (push.arguments as Record<string, unknown>) ?? {},
                        answered: false, after: this.bubbles().at(-1)?.id });
    return true;
  }

  // Anything said after a function call (but its own reply) settles it: the agent drops a
  // proposal it got no answer to, so a replayed call must not be offered again.
  private settleCalls(newReply?: string): void {
    for (const entry of this.entries) {
      if (entry.kind === "call" && (newReply === undefined || entry.after !== newReply)) {
        entry.answered = true;
      }
    }
  }
}
