"""`python -m simptu.operator`: the Tenant operator, cluster-wide, with Kopf peering so that
only one replica reconciles at a time (`--standalone` for a single local process)."""

from __future__ import annotations

import sys

import kopf

from simptu.operator import main  # noqa: F401  # registers the handlers
from simptu.operator.settings import OperatorSettings


def run() -> None:
    standalone = "--standalone" in sys.argv[1:]
    settings = OperatorSettings()  # type: ignore[call-arg]  # from the environment, once
    # JSON logs; Kopf adds the object (the tenant) to every record of a handler.
    kopf.configure(verbose=True, log_format=kopf.LogFormat.JSON, log_refkey="tenant")
    kopf.run(clusterwide=True, standalone=standalone, priority=settings.operator_priority,
             peering_name=None if standalone else "simptu-operator",
             memo=kopf.Memo(settings=settings))


if __name__ == "__main__":
    run()
