"""Kopf handlers of the Tenant operator; importing this package registers those that need no
setting, and `register(settings)` (at start-up) the others: the drift timer at its interval, the
admission handlers when the webhook is served."""

from simptu.operator.handlers import on_admission, on_change, on_delete, on_secret, on_startup

__all__ = ["on_admission", "on_change", "on_delete", "on_secret", "on_startup"]
