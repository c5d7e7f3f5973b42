"""`python -m simptu.operator`: the Tenant operator, cluster-wide, with Kopf peering so that
only one replica reconciles at a time (`--standalone` for a single local process)."""

from __future__ import annotations

import kopf

from simptu.operator import main  # noqa: F401  # registers the handlers
from simptu.operator.settings import OperatorSettings
from simptu.runtime.core import entrypoint


def run(argv: list[str] | None = None) -> None:
    parser = entrypoint.parser(
        "python -m simptu.operator",
        "The Simptu Tenant operator: reconciles every Tenant (namespace, agent Deployment, "
        "realm, topics, keys, database schema) cluster-wide; replicas peer so that one "
        "reconciles at a time.", OperatorSettings)
    parser.add_argument("--standalone", action="store_true",
                        help="no peering: the only operator (a local process)")
    standalone = parser.parse_args(argv).standalone
    settings = OperatorSettings()  # type: ignore[call-arg]  # from the environment, once
    # JSON logs; Kopf adds the object (the tenant) to every record of a handler.
    kopf.configure(verbose=True, log_format=kopf.LogFormat.JSON, log_refkey="tenant")
    kopf.run(clusterwide=True, standalone=standalone, priority=settings.operator_priority,
             peering_name=None if standalone else "simptu-operator",
             memo=kopf.Memo(settings=settings))


if __name__ == "__main__":
    run()
