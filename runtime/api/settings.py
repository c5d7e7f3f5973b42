"""Settings of the API process, read from the environment (`SIMPTU_API_*` and the shared ones)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from simptu.runtime.core.settings import EdgeSettings


class ApiSettings(EdgeSettings):
    # Where the API listens.
    api_host: str = "127.0.0.1"
    api_port: int = 3003
    # Tenants are reached as `<slug>.<base domain>`.
    api_base_domain: str = "simptu.localhost"
    # Seconds a guest token is valid.
    api_guest_token_ttl: int = Field(default=900, ge=60, le=86_400)
    # Guest tokens per tenant and client address, per window.
    api_guest_rate_limit: int = Field(default=10, ge=1)
    api_guest_rate_window: float = Field(default=60.0, gt=0)
    # Requests per tenant and client address, per window (every routed request), counted in
    # memory and shared between replicas through Redis every sync interval (seconds).
    api_rate_limit: int = Field(default=1200, ge=1)
    api_rate_window: float = Field(default=60.0, gt=0)
    api_rate_sync_interval: float = Field(default=0.2, gt=0, le=10)
    # Message history pages kept in Redis, sealed, until a message is added (false: every
    # read goes to Postgres). They expire after api_hot_read_ttl seconds at the latest.
    api_history_cache: bool = True
    # Pages (sealed, about 12 KB for 50 messages) each process also keeps itself, dropped when
    # any process announces a write; 0: every read asks Redis.
    api_history_local_pages: int = Field(default=2000, ge=0)
    # Seconds between rounds of the periodic chores (runtime/core/housekeeping); one replica
    # does each round. 0: this replica does none.
    api_housekeeping_interval: float = Field(default=60.0, ge=0)
    # The largest request body (bytes); a larger one is refused with 413.
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Asked of a client whose tenant is not Ready yet.
    api_retry_after: int = Field(default=30, ge=1)
    # Signing keys of the realms, cached in Redis (seconds).
    api_jwks_cache_ttl: int = Field(default=3600, ge=1)
    # An unknown signing key makes the API fetch the realm's keys again, at most this often
    # (seconds).
    api_jwks_refetch_interval: int = Field(default=30, ge=1)
    # Logging level of the process (DEBUG, INFO, WARNING, ERROR).
    api_log_level: str = "INFO"
    # Cached reads of the catalogue and knowledge base (seconds): every write through the API
    # or the seed command drops them at once; this bounds a change made behind their backs.
    api_hot_read_ttl: int = Field(default=300, ge=1, le=86_400)
    # Invitations: how long an invitation's token can be accepted (seconds).
    api_invitation_ttl: int = Field(default=7 * 86_400, ge=300, le=90 * 86_400)
    # Users of accepted invitations are created through Keycloak's admin API as the tenant
    # realm's own `simptu-operator` account, whose secret this key derives (as the operator
    # does): the API never holds the master admin's password, and each call reaches one realm.
    keycloak_url: str = "http://127.0.0.1:58080"
    keycloak_realm_secret_key: SecretStr = SecretStr("")
    # Access codes: lifetime, wrong guesses a code survives, the token a redeemed code gives,
    # and redemption attempts per tenant and client address per window.
    api_access_code_ttl: int = Field(default=86_400, ge=60, le=30 * 86_400)
    api_access_code_attempts: int = Field(default=5, ge=1, le=20)
    api_access_token_ttl: int = Field(default=1800, ge=60, le=86_400)
    api_access_code_rate_limit: int = Field(default=10, ge=1)
    api_access_code_rate_window: float = Field(default=300.0, gt=0)
    # The chat widget's build (web/widget's dist/, `make up` builds it into the tool cache),
    # served at /widget/; unset: no widget.
    api_widget_dir: Path | None = None
    # The hub's socket URL the demo pages give the widget (data-ws); empty: the widget's
    # default, /socket on the API's own host (one Ingress for both).
    api_widget_ws_url: str = ""
    # The staff inbox's build (web/inbox's dist/, `make up` builds it into the tool cache),
    # served at /inbox/<slug>; unset: no inbox.
    api_inbox_dir: Path | None = None
    # The guides' site (docs/guides built by MkDocs from mkdocs.yml; `make up` builds it into
    # the tool cache), served at /guides/; unset: no guides.
    api_guides_dir: Path | None = None
    # Serve /demo/<slug>, a page per tenant that embeds the widget (local stacks only).
    api_demo_pages: bool = False
    # The platform's own Meta app, for tenants connected through it (a tenant with its own app
    # has its app secret and verify token in its channel Secret): checks webhook signatures
    # and answers Meta's subscription handshake.
    meta_app_secret: SecretStr = SecretStr("")
    # The verify token Meta's subscription handshake of the platform's app must present.
    meta_verify_token: SecretStr = SecretStr("")
    # How long one voice webhook waits for the agent's reply before the caller hears a short
    # filler and Twilio is redirected to wait again (Twilio gives a webhook 15 s).
    api_voice_reply_wait: float = Field(default=5.0, gt=0, le=12)
