import { describe, expect, it } from "vitest";
import { Inbox, groupOf, merged, ordered, type Message, type Session } from "../src/list";

function session(id: string, fields: Partial<Session> = {}): Session {
  return { id, channel: "web", status: "open", customer_id: null, guest: true, locale: "ro",
           created_at: "2026-12-07T08:00:00Z", updated_at: "2026-12-07T08:00:00Z",
           closed_at: null, handed_off_by: null, taken_over_by: null, ...fields };
}

const customer = (seq: number): Message => ({ id: `m${seq}`, seq, author: "customer",
                                              text: `hi ${seq}` });
const agent = (seq: number): Message => ({ id: `m${seq}`, seq, author: "agent", text: "ok" });

describe("groups", () => {
  it("puts conversations waiting for staff first, then with staff, open, closed", () => {
    const sessions = [
      session("closed", { status: "closed" }),
      session("open"),
      session("taken", { status: "handed_off", handed_off_by: "staff", taken_over_by: "u1" }),
      session("asked", { status: "handed_off", handed_off_by: "agent" }),
      session("customer", { status: "handed_off", handed_off_by: "customer" }),
    ];
    expect(sessions.map(groupOf)).toEqual(["closed", "open", "with-staff", "waiting", "waiting"]);
    const groups = ordered(sessions);
    expect([...groups.keys()]).toEqual(["waiting", "with-staff", "open", "closed"]);
    expect(groups.get("waiting")!.map((s) => s.id).sort()).toEqual(["asked", "customer"]);
  });

  it("orders each group by its latest change, newest first", () => {
    const groups = ordered([session("a", { updated_at: "2026-12-07T08:00:00Z" }),
                            session("b", { updated_at: "2026-12-07T09:00:00Z" })]);
    expect(groups.get("open")!.map((s) => s.id)).toEqual(["b", "a"]);
  });
});

describe("merging", () => {
  it("keeps the newer copy of a session", () => {
    const inbox = new Inbox();
    inbox.put(session("a", { status: "handed_off", updated_at: "2026-12-07T09:00:00Z" }));
    expect(inbox.put(session("a", { status: "open", updated_at: "2026-12-07T08:00:00Z" })))
      .toBe(false);
    expect(inbox.sessions.get("a")!.status).toBe("handed_off");
    inbox.load([session("a", { status: "closed", updated_at: "2026-12-07T10:00:00Z" })]);
    expect(inbox.sessions.get("a")!.status).toBe("closed");
  });

  it("shows each message once, in order, from history pages and pushes", () => {
    const all = merged(merged([customer(1), agent(2)], [customer(3)]), [agent(2), customer(1)]);
    expect(all.map((m) => m.seq)).toEqual([1, 2, 3]);
  });
});

describe("unread counts", () => {
  it("counts the customer's messages after the last one seen", () => {
    const inbox = new Inbox(new Map([["a", 1]]));
    inbox.counted("a", [customer(1), agent(2), customer(3), customer(4)]);
    expect(inbox.unread.get("a")).toBe(2);
  });

  it("adds pushed messages once, and none for the conversation on screen", () => {
    const inbox = new Inbox();
    inbox.counted("a", [customer(1)]);
    expect(inbox.received("a", 1, false)).toBe(false); // the history page brought it
    expect(inbox.received("a", 3, false)).toBe(true);
    expect(inbox.received("a", 3, false)).toBe(false);
    expect(inbox.unread.get("a")).toBe(2);
    inbox.read("a", 3);
    expect(inbox.unread.get("a")).toBe(0);
    expect(inbox.received("a", 4, true)).toBe(true);
    expect(inbox.unread.get("a")).toBe(0);
    expect(inbox.seen.get("a")).toBe(4);
  });
});
