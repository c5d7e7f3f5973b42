"""Who may see a chat session, the one rule the API and the WS hub share: a guest only the
session of its token, an access-code customer the conversations with that customer, a customer
the sessions they own, staff and admins every session of their tenant."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from simptu.runtime.core.customer_tokens import CustomerClaims
from simptu.runtime.core.guest_tokens import GuestClaims

# Roles that see every conversation of their tenant.
STAFF_ROLES = ("platform-admin", "tenant-admin", "staff")


@dataclass(frozen=True)
class Principal:
    """A verified user of one tenant, as the API (a request's caller) and the hub (a socket's
    participant) know it."""

    tenant: str
    subject: str
    roles: frozenset[str]
    # Set for a guest: the one chat session the guest may use.
    guest_session: uuid.UUID | None = None
    # Set for a redeemed access code: the customer whose bookings and chats it may read.
    customer_access: uuid.UUID | None = None

    @classmethod
    def of_platform_token(cls, claims: GuestClaims | CustomerClaims) -> Self:
        """The user a platform-signed token stands for: a customer without an account (their
        id as subject, so bookings and chats treat it as their own), or a website guest."""
        if isinstance(claims, CustomerClaims):
            return cls(claims.tenant, str(claims.customer_id), frozenset({"customer"}),
                       customer_access=claims.customer_id)
        return cls(claims.tenant, f"guest:{claims.session_id}", frozenset(),
                   guest_session=claims.session_id)

    def has_any(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_staff(self) -> bool:
        """Staff and admins see every conversation of their tenant."""
        return self.has_any(*STAFF_ROLES)


def may_see(viewer: Principal, session: Mapping[str, Any]) -> bool:
    """`session`: a row (or mapping) with its `id`, `customer_id` and `owner_subject`."""
    if viewer.guest_session is not None:
        return bool(viewer.guest_session == session["id"])
    if viewer.customer_access is not None:  # conversations the business has with the customer
        return bool(viewer.customer_access == session["customer_id"])
    return viewer.is_staff or session["owner_subject"] == viewer.subject
