// The stream and resume logic: what the visitor sees is built from the hub's pushes once,
// whatever the hub sends again (a resume with last_event_id, a second tab, a restart).
import { describe, expect, it } from "vitest";
import { localeOf } from "../src/config";
import { Transcript, type Bubble } from "../src/transcript";

const texts = (t: Transcript): string[] =>
  t.entries.filter((e): e is Bubble => e.kind === "bubble").map((b) => b.text);

describe("a streamed reply", () => {
  it("grows delta by delta and is replaced by the whole reply", () => {
    const t = new Transcript();
    t.apply("reply_delta", { event_id: 1, message_id: "r1", seq: 0, delta: "Bună " });
    t.apply("reply_delta", { event_id: 2, message_id: "r1", seq: 1, delta: "ziua" });
    expect(texts(t)).toEqual(["Bună ziua"]);
    expect(t.streaming?.id).toBe("r1");
    t.apply("reply", { event_id: 3, message_id: "r1", seq: 4, text: "Bună ziua!" });
    expect(texts(t)).toEqual(["Bună ziua!"]);
    expect(t.streaming).toBeUndefined();
  });

  it("puts deltas in seq order and drops a repeated part", () => {
    const t = new Transcript();
    t.apply("reply_delta", { event_id: 5, message_id: "r1", seq: 1, delta: "b" });
    t.apply("reply_delta", { event_id: 6, message_id: "r1", seq: 0, delta: "a" });
    // an agent restarted mid-reply streams it again under new event ids
    expect(t.apply("reply_delta", { event_id: 7, message_id: "r1", seq: 0, delta: "a" })).toBe(false);
    expect(texts(t)).toEqual(["ab"]);
  });

  it("ignores deltas that arrive after the whole reply", () => {
    const t = new Transcript();
    t.apply("reply", { event_id: 1, message_id: "r1", text: "whole" });
    expect(t.apply("reply_delta", { event_id: 2, message_id: "r1", seq: 0, delta: "wh" })).toBe(false);
    expect(texts(t)).toEqual(["whole"]);
  });
});

describe("resuming", () => {
  it("remembers the last event id and applies a replayed push once", () => {
    const t = new Transcript();
    t.apply("message", { event_id: 10, message_id: "m1", author: "customer", text: "Salut" });
    t.apply("reply", { event_id: 11, message_id: "r1", text: "Bună!" });
    expect(t.lastEventId).toBe(11);
    // a rejoin that asked for last_event_id -1 (a reload) gets everything again
    expect(t.apply("message", { event_id: 10, message_id: "m1", author: "customer", text: "Salut" })).toBe(false);
    expect(t.apply("reply", { event_id: 11, message_id: "r1", text: "Bună!" })).toBe(false);
    expect(texts(t)).toEqual(["Salut", "Bună!"]);
  });

  it("rebuilds the same conversation from a full replay (a reloaded page)", () => {
    const pushes: Array<[string, Record<string, unknown>]> = [
      ["message", { event_id: 1, message_id: "m1", author: "customer", text: "Hello", client_msg_id: "c1" }],
      ["reply_delta", { event_id: 2, message_id: "r1", seq: 0, delta: "Hi" }],
      ["function_call", { event_id: 3, call_id: "k1", name: "confirm_booking", arguments: { service: "Filling" } }],
      ["reply", { event_id: 4, message_id: "r1", text: "Hi!" }],
    ];
    const live = new Transcript();
    live.sending("c1", "Hello");
    for (const [event, push] of pushes) live.apply(event, push);
    const reloaded = new Transcript();
    for (const [event, push] of pushes) reloaded.apply(event, push);
    expect(reloaded.entries).toEqual(live.entries);
  });
});

describe("the visitor's own message", () => {
  it("is shown at once and confirmed in place by the hub's push", () => {
    const t = new Transcript();
    t.sending("c1", "Aveți loc mâine?");
    expect(t.apply("message", { event_id: 1, message_id: "m1", author: "customer",
                                text: "Aveți loc mâine?", client_msg_id: "c1" })).toBe(false);
    expect(t.entries).toHaveLength(1);
    expect(t.entries[0].id).toBe("m1");
  });

  it("sent from a second tab appears once here", () => {
    const t = new Transcript();
    t.apply("message", { event_id: 1, message_id: "m1", author: "customer", text: "x", client_msg_id: "other" });
    expect(texts(t)).toEqual(["x"]);
  });
});

describe("function calls", () => {
  it("stay open through their own reply and close with the next one", () => {
    const t = new Transcript();
    t.apply("reply_delta", { event_id: 1, message_id: "r1", seq: 0, delta: "Confirm?" });
    t.apply("function_call", { event_id: 2, call_id: "k1", name: "confirm_booking", arguments: {} });
    t.apply("reply", { event_id: 3, message_id: "r1", text: "Confirm?" });
    const call = t.entries.find((e) => e.kind === "call");
    expect(call?.kind === "call" && call.answered).toBe(false);
    t.apply("reply_delta", { event_id: 4, message_id: "r2", seq: 0, delta: "Booked" });
    expect(call?.kind === "call" && call.answered).toBe(true);
  });

  it("are not offered twice when replayed", () => {
    const t = new Transcript();
    const call = { event_id: 2, call_id: "k1", name: "confirm_booking", arguments: {} };
    t.apply("function_call", call);
    expect(t.apply("function_call", { ...call, event_id: 9 })).toBe(false);
    expect(t.entries.filter((e) => e.kind === "call")).toHaveLength(1);
  });

  it("are closed by a message of the visitor", () => {
    const t = new Transcript();
    t.apply("function_call", { event_id: 1, call_id: "k1", name: "choose_slot", arguments: { slots: [] } });
    t.apply("message", { event_id: 2, message_id: "m1", author: "customer", text: "no" });
    const call = t.entries.find((e) => e.kind === "call");
    expect(call?.kind === "call" && call.answered).toBe(true);
  });
});

describe("the widget's language", () => {
  it("is the visitor's when the widget speaks it", () => {
    expect(localeOf("ro", ["en-GB", "ro"])).toBe("en");
    expect(localeOf("en", ["ro-RO"])).toBe("ro");
  });
  it("is the tenant's otherwise, then English", () => {
    expect(localeOf("ro", ["de-DE", "fr"])).toBe("ro");
    expect(localeOf(undefined, ["de-DE"])).toBe("en");
  });
});

describe("a message sent while the history is replayed", () => {
  it("stays after the history", () => {
    const t = new Transcript();
    t.sending("c2", "What time is check-in?");
    t.apply("message", { event_id: 1, message_id: "m1", author: "customer", text: "Hello!" });
    t.apply("reply_delta", { event_id: 2, message_id: "r1", seq: 0, delta: "Hi" });
    t.apply("reply", { event_id: 3, message_id: "r1", text: "Hi!" });
    t.apply("message", { event_id: 4, message_id: "m2", author: "customer",
                         text: "What time is check-in?", client_msg_id: "c2" });
    t.apply("reply", { event_id: 5, message_id: "r2", text: "From 14:00." });
    expect(texts(t)).toEqual(["Hello!", "Hi!", "What time is check-in?", "From 14:00."]);
  });
});
