"""The provider a tenant's settings name, with its credentials (from the environment the
Deployment fills from the tenant's Secret; never from code)."""

from __future__ import annotations

from pydantic import SecretStr

from simptu.runtime.agent.intents import IntentClassifier
from simptu.runtime.agent.providers.base import ChatProvider
from simptu.runtime.agent.providers.hosted import HostedProvider
from simptu.runtime.agent.providers.local import LocalProvider
from simptu.runtime.core.registry import TenantAgent


class ProviderError(RuntimeError):
    """A tenant's model settings cannot work (no credentials, no region)."""


def create_provider(settings: TenantAgent, credentials: SecretStr | None,
                    classifier: IntentClassifier) -> ChatProvider:
    if settings.provider == "local":
        return LocalProvider(classifier)
    if credentials is None:
        raise ProviderError(f"the {settings.provider} model needs credentials "
                            f"(Secret {settings.credentials_secret or '(none named)'})")
    if settings.provider == "openai":
        from langchain_openai import ChatOpenAI

        return HostedProvider("openai", ChatOpenAI(
            model=settings.model, api_key=credentials, base_url=settings.endpoint,
            streaming=True, max_retries=1, timeout=30))
    from langchain_aws import ChatBedrockConverse

    # "ACCESS_KEY_ID:SECRET" is an IAM key pair; anything else a Bedrock API key.
    key_id, _, secret = credentials.get_secret_value().partition(":")
    keys = ({"aws_access_key_id": SecretStr(key_id), "aws_secret_access_key": SecretStr(secret)}
            if secret else {"api_key": credentials})
    return HostedProvider("bedrock", ChatBedrockConverse(
        model=settings.model, region_name=settings.region or "eu-central-1",
        base_url=settings.endpoint, **keys))  # type: ignore[arg-type]
