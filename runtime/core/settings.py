"""Settings every runtime shares, read from the environment (`SIMPTU_*`, plus `BAO_*`/`VAULT_*`).

`eval "$(make -s env)"` sets all of them for the local stack.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIMPTU_", extra="ignore")

    database_url: SecretStr
    # asyncpg's prepared-statement cache; 0 behind a transaction-mode pooler such as PgBouncer.
    database_statement_cache_size: int = 100
    database_pool_min: int = 1
    database_pool_max: int = 10
    redis_url: SecretStr
    kafka_bootstrap: str = "127.0.0.1:59092"
    bao_addr: str = Field(
        "http://127.0.0.1:58200",
        validation_alias=AliasChoices("SIMPTU_BAO_ADDR", "BAO_ADDR", "VAULT_ADDR"))
    bao_token: SecretStr = Field(SecretStr(""),
                                 validation_alias=AliasChoices("SIMPTU_BAO_TOKEN", "BAO_TOKEN",
                                                               "VAULT_TOKEN"))
    transit_mount: str = "transit"
    registry_cache_ttl: int = 60
    # Seconds a runtime keeps a registry record in process memory: how late it may see a
    # tenant's change (status, issuer, origins); 0 reads Redis on every lookup.
    registry_memory_ttl: float = Field(default=5.0, ge=0, le=60)
    # The longest message anyone may post to a conversation (characters), on every transport.
    chat_max_text_chars: int = Field(default=4000, ge=1)
