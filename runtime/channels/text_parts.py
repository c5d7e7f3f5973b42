"""Replies cut to a channel's length limit, between paragraphs, then sentences, then words,
so each part reads on its own."""

from __future__ import annotations

import re
from collections.abc import Callable

BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"(?<=[.!?…])\s+"), re.compile(r"\s+"))


def split_text(text: str, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """`text` in parts of at most `limit` by `size` (characters by default; UTF-8 bytes for
    Instagram)."""
    text = text.strip()
    if size(text) <= limit:
        return [text] if text else []
    for pattern in BREAKS:
        pieces = [p for p in pattern.split(text) if p.strip()]
        if len(pieces) > 1:
            joiner = "\n\n" if pattern is BREAKS[0] else " "
            return _pack(pieces, limit, size, joiner)
    return _hard_cut(text, limit, size)


def _pack(pieces: list[str], limit: int, size: Callable[[str], int], joiner: str) -> list[str]:
    parts: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{joiner}{piece}" if current else piece
        if size(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        if size(piece) <= limit:
            current = piece
        else:  # one piece too long on its own: cut it by the next kind of break
            *whole, current = split_text(piece, limit, size)
            parts.extend(whole)
    if current:
        parts.append(current)
    return parts


def _hard_cut(text: str, limit: int, size: Callable[[str], int]) -> list[str]:
    parts, current = [], ""
    for char in text:
        if size(current + char) > limit:
            parts.append(current)
            current = ""
        current += char
    return parts + ([current] if current else [])


def utf8_bytes(text: str) -> int:
    return len(text.encode())


def utf16_units(text: str) -> int:
    """The length of `text` as UCS-2 SMS count it: an emoji is two units."""
    return len(text.encode("utf-16-le")) // 2
