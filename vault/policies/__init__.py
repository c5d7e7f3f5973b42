"""OpenBao policies of the platform, shipped with it as package data."""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def tenant_agent_policy(transit_key: str) -> str:
    """The policy that lets a tenant's agent use its own transit key and nothing else."""
    return (HERE / "tenant-agent.hcl").read_text().replace("{key}", transit_key)
