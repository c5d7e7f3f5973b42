"""The HTTP API (FastAPI): tenant routing, authentication, and the resources the frontend, the
tenants' staff and the channel providers call. `python -m simptu.runtime.api` serves it."""
