// Asking the API for a guest session: what each answer of POST /v1/chat/guest becomes.
import { afterEach, describe, expect, it, vi } from "vitest";
import { GuestLimited, GuestRefused, guestSession } from "../src/chat";
import type { WidgetConfig } from "../src/config";

const cfg = { tenant: "zambet-dental-cluj", locale: "ro", api: "https://api.example" } as WidgetConfig;

afterEach(() => vi.unstubAllGlobals());

function answering(status: number, body: unknown = {}, headers: Record<string, string> = {}) {
  const fetch = vi.fn(async () => new Response(JSON.stringify(body), { status, headers }));
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

describe("a guest session", () => {
  it("is asked of the tenant, without cookies, in the visitor's language", async () => {
    const fetch = answering(201, { token: "t", session_id: "s", expires_at: "2030-01-01T00:00:00Z" });
    expect(await guestSession(cfg)).toEqual({ sessionId: "s", token: "t", expiresAt: "2030-01-01T00:00:00Z", open: true });
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("https://api.example/v1/chat/guest");
    expect(init.credentials).toBe("omit");
    expect((init.headers as Record<string, string>)["X-Simptu-Tenant"]).toBe("zambet-dental-cluj");
    expect(JSON.parse(String(init.body))).toEqual({ locale: "ro" });
  });

  it("is refused to a foreign origin", async () => {
    answering(403);
    await expect(guestSession(cfg)).rejects.toBeInstanceOf(GuestRefused);
  });

  it("waits as long as the API asks when there were too many", async () => {
    answering(429, {}, { "Retry-After": "12" });
    await expect(guestSession(cfg)).rejects.toEqual(new GuestLimited(12));
  });
});
