"""Who may see a chat session, the one rule the API and the WS hub share: a guest only the
session of its token, an access-code customer the conversations with that customer, a customer
the sessions they own, staff and admins every session of their tenant."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Protocol

# Roles that see every conversation of their tenant.
STAFF_ROLES = ("platform-admin", "tenant-admin", "staff")


class Viewer(Protocol):
    """A verified caller, as the API or the hub knows it."""

    @property
    def subject(self) -> str: ...

    @property
    def guest_session(self) -> uuid.UUID | None: ...

    @property
    def customer_access(self) -> uuid.UUID | None: ...

    @property
    def is_staff(self) -> bool: ...


def may_see(viewer: Viewer, session: Mapping[str, Any]) -> bool:
    """`session`: a row (or mapping) with its `id`, `customer_id` and `owner_subject`."""
    if viewer.guest_session is not None:
        return bool(viewer.guest_session == session["id"])
    if viewer.customer_access is not None:  # conversations the business has with the customer
        return bool(viewer.customer_access == session["customer_id"])
    return viewer.is_staff or session["owner_subject"] == viewer.subject
