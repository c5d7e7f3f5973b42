// First-party storage of the visitor's conversation (localStorage of the clinic's page), written
// only once the visitor opens the chat: a reload, another page of the site or a second tab
// finds the same conversation. Never a cookie.

export interface StoredSession {
  sessionId: string;
  token: string;
  expiresAt: string; // the guest token's expiry (ISO 8601)
  open: boolean; // the panel was open when the page went away
}

const key = (tenant: string): string => `simptu-chat:${tenant}`;

export function storedSession(tenant: string, now = Date.now()): StoredSession | undefined {
  try {
    const raw = localStorage.getItem(key(tenant));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as StoredSession;
    // A token about to expire cannot rejoin: start a new conversation instead.
    return Date.parse(stored.expiresAt) - now > 30_000 ? stored : undefined;
  } catch {
    return undefined; // storage blocked (privacy settings): the chat works for this page only
  }
}

export function storeSession(tenant: string, session: StoredSession): void {
  try {
    localStorage.setItem(key(tenant), JSON.stringify(session));
  } catch {
    /* storage blocked: nothing to keep */
  }
}
