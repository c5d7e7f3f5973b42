"""The tenant's knowledge base (FAQ entries the agent answers from): the store the API writes
through and the search the agent reads with."""

from simptu.runtime.core.knowledge.errors import DuplicateQuestion, EntryNotFound, KnowledgeError
from simptu.runtime.core.knowledge.models import (
    NO_NUL,
    KnowledgeEntry,
    KnowledgeEntryChange,
    KnowledgeEntrySpec,
    KnowledgeHit,
)
from simptu.runtime.core.knowledge.search import search_entries
from simptu.runtime.core.knowledge.store import (
    CACHE_COLLECTION,
    delete_entry,
    get_entry,
    list_entries,
    save_entry,
    update_entry,
)
from simptu.runtime.core.language import Locale

__all__ = [
    "CACHE_COLLECTION",
    "NO_NUL",
    "DuplicateQuestion",
    "EntryNotFound",
    "KnowledgeEntry",
    "KnowledgeEntryChange",
    "KnowledgeEntrySpec",
    "KnowledgeError",
    "KnowledgeHit",
    "Locale",
    "delete_entry",
    "get_entry",
    "list_entries",
    "save_entry",
    "search_entries",
    "update_entry",
]
