"""What can go wrong writing the knowledge base, as exceptions whose message can be shown as
it is. When one is raised, nothing was changed."""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base of the knowledge base's errors; `str(error)` says what happened in plain words."""


class EntryNotFound(KnowledgeError):
    """An entry that does not exist in this tenant."""


class DuplicateQuestion(KnowledgeError):
    """Another entry already answers this question in this language."""
