"""The operator's Prometheus metrics."""

from prometheus_client import Counter, Gauge, Histogram

RECONCILES = Counter("simptu_operator_reconciles_total", "Tenant reconciliations", ["result"])
RECONCILE_SECONDS = Histogram("simptu_operator_reconcile_seconds",
                              "How long one tenant reconciliation took")
DELETIONS = Counter("simptu_operator_deletions_total", "Tenant deletions", ["policy", "result"])
TENANTS_BY_PHASE = Gauge("simptu_operator_tenants", "Tenants by phase", ["phase"])
STEP_SECONDS = Histogram("simptu_operator_step_seconds",
                         "How long one provisioning step took (ensure and check)", ["step"],
                         buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120))
