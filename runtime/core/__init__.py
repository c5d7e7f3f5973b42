"""What every runtime shares: settings, tenancy, per-tenant database access, encryption,
the event bus and Redis helpers."""
