"""The platform's own mails (invitations, access codes, booking confirmations and
cancellations, rating requests): rendered from per-locale templates, plain text and HTML, and
sent once through the platform's mail relay by a consumer of the tenants' `events` topics."""
