"""The platform's own mails in the tenant's schema: what may be mailed (kinds, locales), the
`io.simptu.mail.requested` event a use case enqueues in its transaction (address and words
sealed), and the record of each mail that keeps it from being lost or sent twice."""

from __future__ import annotations

from typing import Literal

MailKind = Literal["invitation", "access-code", "booking-confirmed", "booking-cancelled",
                   "rating-request"]
LOCALES = ("ro", "en")
