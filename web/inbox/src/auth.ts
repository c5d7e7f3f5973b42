// Sign-in with the tenant's Keycloak realm: authorization code + PKCE (S256) on the realm's
// public web client, through oidc-client-ts (tokens in sessionStorage, renewed with the
// refresh token before they expire; logout lands back on this page).
import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";
import type { InboxConfig } from "./config";

export const SIGNED_OUT = "signed-out";

export function userManager(cfg: InboxConfig): UserManager {
  const page = new URL(cfg.page, location.href).href;
  return new UserManager({
    authority: cfg.authority,
    client_id: cfg.clientId,
    redirect_uri: page,
    post_logout_redirect_uri: `${page}?${SIGNED_OUT}`,
    response_type: "code",
    scope: "openid",
    automaticSilentRenew: true,
    userStore: new WebStorageStateStore({ store: sessionStorage }),
  });
}

/** The signed-in user: after Keycloak's redirect back (the code in the query), or one kept in
 * this tab; null when no one is signed in. */
export async function signedIn(manager: UserManager): Promise<User | null> {
  const query = new URLSearchParams(location.search);
  if (query.has("code") && query.has("state")) {
    const user = await manager.signinRedirectCallback();
    history.replaceState(null, "", location.pathname);
    return user;
  }
  const user = await manager.getUser();
  if (user && !user.expired) return user;
  if (user?.refresh_token) {
    try {
      return await manager.signinSilent();
    } catch {
      await manager.removeUser();
    }
  }
  return null;
}

/** The realm roles the access token carries (Keycloak's `realm_access.roles`). */
export function rolesOf(accessToken: string): string[] {
  try {
    const part = accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
    return Array.isArray(claims?.realm_access?.roles) ? claims.realm_access.roles : [];
  } catch {
    return [];
  }
}
