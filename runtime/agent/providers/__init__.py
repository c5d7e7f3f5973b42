"""The agent's model providers behind one small interface: `local` (offline: rules, MiniLM and
templates), `openai` (any OpenAI-compatible server) and `bedrock` (Amazon Bedrock Converse)."""

from simptu.runtime.agent.providers.base import (
    ChatProvider,
    ProviderContext,
    Understanding,
)
from simptu.runtime.agent.providers.factory import create_provider

__all__ = ["ChatProvider", "ProviderContext", "Understanding",
           "create_provider"]
