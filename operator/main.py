"""Entry point for `kopf run`: importing this registers every handler of the Tenant operator.

    kopf run --all-namespaces --peering=simptu-operator -m simptu.operator.main
"""

from simptu.operator import handlers  # noqa: F401  # registers the handlers
