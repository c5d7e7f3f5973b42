"""OpenBao policies of the platform, shipped with it as package data."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNTIME_POLICY = "simptu-runtime"
OPERATOR_POLICY = "simptu-operator"


def tenant_agent_policy(transit_key: str) -> str:
    """The policy that lets a tenant's agent use its own transit key and nothing else."""
    return (HERE / "tenant-agent.hcl").read_text().replace("{key}", transit_key)


def runtime_policy() -> str:
    """The shared runtimes': unwrap any tenant's data keys, the registry's HMAC."""
    return (HERE / "runtime.hcl").read_text()


def operator_policy(kubernetes_mount: str = "kubernetes") -> str:
    """The operator's: tenants' keys, their policies and their Kubernetes auth roles."""
    return (HERE / "operator.hcl").read_text().replace("{kubernetes_mount}", kubernetes_mount)
