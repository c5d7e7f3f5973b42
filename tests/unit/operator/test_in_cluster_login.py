"""In a pod the operator reaches the API server where the kubelet says it is
(KUBERNETES_SERVICE_HOST/PORT), as client-go does, not through the cluster's DNS."""

from __future__ import annotations

from simptu.operator.handlers.on_startup import in_cluster_server


def test_the_kubelets_address_of_the_api_server_is_used() -> None:
    assert in_cluster_server({"KUBERNETES_SERVICE_HOST": "10.96.0.1",
                              "KUBERNETES_SERVICE_PORT": "443"}) == "https://10.96.0.1:443"


def test_an_ipv6_address_is_bracketed() -> None:
    assert in_cluster_server({"KUBERNETES_SERVICE_HOST": "fd00::1",
                              "KUBERNETES_SERVICE_PORT": "6443"}) == "https://[fd00::1]:6443"


def test_without_the_kubelets_variables_the_services_dns_name_is_used() -> None:
    assert in_cluster_server({}) == "https://kubernetes.default.svc"
