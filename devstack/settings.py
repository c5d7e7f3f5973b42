"""Where the local stack keeps its tools and state, and which loopback ports it uses.

Every value can be overridden by an environment variable with the `SIMPTU_` prefix
(e.g. `SIMPTU_POSTGRES_PORT=6543`); the defaults are the ports of DESIGN.md.
"""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class DevstackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIMPTU_", extra="ignore")

    state_dir: Path = REPO_ROOT / ".devstack"
    tools_cache: Path = Path.home() / ".cache" / "simptu"
    host: str = "127.0.0.1"
    ready_timeout: float = 180.0
    # A real node (containerd, kubelet, kube-scheduler) that runs each tenant's agent as its own
    # pods; SIMPTU_NODE=0 runs one all-tenants agent worker process instead (lighter, quicker).
    node: bool = True
    node_name: str = "simptu-node"
    # Whether `up` builds the platform image again when its inputs (the checkout) changed, then
    # imports it and restarts the agents running the old one. Test sessions start the stack with
    # False: they use the newest image built, so starting one never restarts the agents under
    # another's tests (`make up` rebuilds).
    rebuild_images: bool = True
    # The pod network: a bridge made by the stack, private to this machine. Its first address
    # is the node's (the kubelet's and the host's address as pods see it).
    pod_bridge: str = "simptu0"
    pod_cidr: str = "10.244.0.0/24"

    postgres_port: int = 55432
    pgbouncer_port: int = 56432
    redis_port: int = 56379
    kafka_port: int = 59092
    kafka_controller_port: int = 59093
    # Kafka's client listener with SASL/SCRAM-SHA-512 and the StandardAuthorizer (no ACL, no
    # access); off: a plaintext listener anyone may use (set before the storage is formatted).
    kafka_sasl: bool = True
    etcd_port: int = 52379
    etcd_peer_port: int = 52380
    kube_apiserver_port: int = 56443
    openbao_port: int = 58200
    keycloak_port: int = 58080
    keycloak_management_port: int = 58090
    operator_port: int = 8081
    operator_webhook_port: int = 58443
    api_port: int = 3003
    relay_metrics_port: int = 58091
    agent_port: int = 8090
    ws_port: int = 4000
    # The channel senders' health and metrics (runtime/channels).
    channels_port: int = 58094
    # The stand-in of Meta's Graph API (devstack/standins/meta_graph.py).
    meta_graph_port: int = 58102
    # The stand-in of Twilio's REST API (devstack/standins/twilio_api.py).
    twilio_api_port: int = 58103
    # The stand-in of Booking.com's Connectivity APIs (devstack/standins/booking_com.py).
    booking_com_port: int = 58104
    # The mail servers: Postfix's SMTP, Dovecot's IMAP, and the LMTP that joins them.
    mail_smtp_port: int = 58025
    mail_imap_port: int = 58143
    mail_lmtp_port: int = 58024
    kube_scheduler_port: int = 56459
    kubelet_healthz_port: int = 56248
    kubelet_port: int = 56250

    @property
    def env_file(self) -> Path:
        """The file `make env` prints and that tests and runtimes read."""
        return self.state_dir / "env"

    def service_dir(self, name: str) -> Path:
        return self.state_dir / name
