"""Settings of the WS hub, read from the environment (`SIMPTU_WS_*` and the shared ones)."""

from __future__ import annotations

from pydantic import Field

from simptu.runtime.core.settings import EdgeSettings


class WsSettings(EdgeSettings):
    # Where the hub listens.
    ws_host: str = "127.0.0.1"
    ws_port: int = 4000
    # The largest frame a client may send; a larger one closes its socket with 1009.
    ws_max_frame_bytes: int = Field(default=65_536, ge=1024, le=16 * 1_048_576)
    # A socket that sends nothing (phoenix.js heartbeats every 30 s) for this long is closed.
    ws_heartbeat_timeout: float = Field(default=60.0, gt=0)
    # Frames a client may get wrong in a row before its socket is closed (1008).
    ws_max_malformed_frames: int = Field(default=10, ge=1)
    # The per-session log a reconnecting client resumes from: entries kept, and seconds kept.
    ws_resume_max_events: int = Field(default=500, ge=1)
    ws_resume_ttl: int = Field(default=3600, ge=10)
    # How often the hub looks for new tenants' topics (seconds).
    ws_topic_refresh_interval: float = Field(default=2.0, gt=0)
    # Redis connections of one replica; a burst of joins waits for one instead of failing.
    ws_redis_connections: int = Field(default=50, ge=2)
    # Logging level of the process (DEBUG, INFO, WARNING, ERROR).
    ws_log_level: str = "INFO"
