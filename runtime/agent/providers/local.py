"""The default provider, offline: intents by rules and the packaged MiniLM model, slots by
patterns over the tenant's catalogue, and replies streamed from the per-language templates."""

from __future__ import annotations

from collections.abc import AsyncIterator

from simptu.runtime.agent.intents import IntentClassifier, classify_by_rules
from simptu.runtime.agent.providers.base import ProviderContext, Understanding
from simptu.runtime.agent.slots import extract
from simptu.runtime.agent.templates import pieces
from simptu.runtime.core.language import Locale


def slots_as_json(text: str, context: ProviderContext) -> dict[str, str | int]:
    named = extract(text, context.today, context.vocabulary).named()
    if context.business.by_the_night:  # "tonight" says the day: a stay starts at check-in
        named.pop("part_of_day", None)
    return {key: value if isinstance(value, str | int) else str(value)
            for key, value in named.items()}


class LocalProvider:
    name = "local"
    slow = False

    def __init__(self, classifier: IntentClassifier) -> None:
        self.classifier = classifier

    async def understand(self, text: str, locale: Locale,
                         context: ProviderContext) -> Understanding:
        slots = slots_as_json(text, context)
        by_rule = classify_by_rules(text)
        if by_rule is not None:
            return {"intent": by_rule, "slots": slots}
        return {"intent": "question", "guess": await self.classifier.guess(text), "slots": slots}

    async def phrase(self, text: str, locale: Locale,
                     context: ProviderContext) -> AsyncIterator[str]:
        for piece in pieces(text):
            yield piece
