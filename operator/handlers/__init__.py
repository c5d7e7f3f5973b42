"""Kopf handlers of the Tenant operator; importing this package registers them."""

import os

from simptu.operator.handlers import on_admission, on_change, on_delete, on_startup

# The same variable OperatorSettings.webhook_port reads, when on_startup serves the webhook.
if os.environ.get("SIMPTU_WEBHOOK_PORT", "0") not in ("", "0"):
    on_admission.register()

__all__ = ["on_admission", "on_change", "on_delete", "on_startup"]
