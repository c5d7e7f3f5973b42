"""Conversations, shared by every runtime that takes part in one: the API (sessions and
history), the WS hub (live messages) and the agent (replies). `store` keeps sessions and
messages sealed in the tenant's schema; `events` writes what they produce through the outbox;
`conversation` is the contract of the events on the tenant's `inbound` and `outbound` topics."""
