"""Kopf handlers of the Tenant operator; importing this package registers them."""

from simptu.operator.handlers import on_admission, on_change, on_delete, on_startup

__all__ = ["on_admission", "on_change", "on_delete", "on_startup"]
