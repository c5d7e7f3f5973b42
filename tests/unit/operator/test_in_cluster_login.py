"""In a pod the operator reaches the API server where the kubelet says it is
(KUBERNETES_SERVICE_HOST/PORT), as client-go does, not through the cluster's DNS: its Kopf
login and its own client read the address the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes.config import incluster_config

from simptu.operator.platform import in_cluster_configuration


@pytest.fixture
def service_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files the kubelet mounts into a pod, where the client looks for them."""
    (tmp_path / "token").write_text("a-token")
    (tmp_path / "ca.crt").write_text("a CA bundle")  # present, not empty
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(tmp_path / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(tmp_path / "ca.crt"))


@pytest.mark.usefixtures("service_account")
@pytest.mark.parametrize(("host", "port", "server"), [
    ("10.96.0.1", "443", "https://10.96.0.1:443"),
    ("fd00::1", "6443", "https://[fd00::1]:6443"),  # an IPv6 address is bracketed
])
def test_the_kubelets_address_of_the_api_server_is_used(
        monkeypatch: pytest.MonkeyPatch, host: str, port: str, server: str) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    configuration = in_cluster_configuration()
    assert configuration is not None
    assert configuration.host == server


def test_outside_a_pod_there_is_no_in_cluster_configuration(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert in_cluster_configuration() is None
