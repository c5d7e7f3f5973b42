"""Who keeps the ValidatingWebhookConfiguration: Kopf (the local stack's operator, pointing it at
its own URL) or whoever installed the operator (the Helm chart, SIMPTU_OPERATOR_WEBHOOK_MANAGED=
false: a Service in front of the replicas, which Kopf must not rewrite)."""

from __future__ import annotations

import kopf
from pydantic import SecretStr

from simptu.operator.handlers.on_startup import WEBHOOK_CONFIGURATION, _serve_admission
from simptu.operator.settings import OperatorSettings


def settings(*, managed: bool = True) -> OperatorSettings:
    return OperatorSettings(database_url=SecretStr("postgresql://u@h/d"),
                            redis_url=SecretStr("redis://h"), operator_webhook_port=58443,
                            operator_webhook_managed=managed)


def test_by_default_kopf_keeps_the_webhook_configuration() -> None:
    kopf_settings = kopf.OperatorSettings()
    _serve_admission(kopf_settings, settings())
    assert kopf_settings.admission.managed == WEBHOOK_CONFIGURATION
    assert kopf_settings.admission.server is not None


def test_installed_with_its_configuration_the_operator_serves_it_and_leaves_it_alone() -> None:
    kopf_settings = kopf.OperatorSettings()
    _serve_admission(kopf_settings, settings(managed=False))
    assert kopf_settings.admission.server is not None
    assert kopf_settings.admission.managed is None
