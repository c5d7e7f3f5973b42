"""The stack starts services in dependency order, in parallel where it can."""

from __future__ import annotations

import pytest

from simptu.devstack.processes import Launch
from simptu.devstack.services import ALL_SERVICES
from simptu.devstack.services.base import Context, Service
from simptu.devstack.stack import waves


class Named(Service):
    def __init__(self, name: str, needs: tuple[str, ...] = ()) -> None:
        self.name = name
        self.needs = needs

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=["true"])

    async def probe(self, ctx: Context) -> None:
        return None


def names(groups: list[list[Service]]) -> list[list[str]]:
    return [[svc.name for svc in group] for group in groups]


def test_services_wait_for_what_they_need() -> None:
    services = [Named("api", ("db", "bus")), Named("db"), Named("bus"), Named("ui", ("api",))]
    assert names(waves(services)) == [["db", "bus"], ["api"], ["ui"]]


def test_a_need_nobody_provides_is_an_error() -> None:
    with pytest.raises(ValueError, match="unsatisfiable"):
        waves([Named("api", ("missing",))])


def test_the_real_stack_starts_apiserver_after_etcd_and_keycloak_after_postgres() -> None:
    order = {svc.name: n for n, group in enumerate(waves(ALL_SERVICES)) for svc in group}
    assert order["etcd"] < order["kube-apiserver"] < order["kube-controller-manager"]
    assert order["postgres"] < order["keycloak"]
    assert len({svc.name for svc in ALL_SERVICES}) == len(ALL_SERVICES)
