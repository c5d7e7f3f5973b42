"""What a provider's refusal means for a send, whichever provider said it: try again later
(throttled, transient), never (window-closed, refused, permanent), tell people (bad-token), or
do not know whether it went out (uncertain: never sent again)."""

from __future__ import annotations

from typing import Literal

Kind = Literal["throttled", "window-closed", "opted-out", "bad-token", "transient",
               "permanent", "uncertain"]


class SendError(Exception):
    """A send that did not happen (or, for `uncertain`, may have)."""

    def __init__(self, kind: Kind, code: str, detail: str) -> None:
        super().__init__(f"{kind} ({code}): {detail}")
        self.kind, self.code, self.detail = kind, code, detail
