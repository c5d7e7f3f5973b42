"""The staff inbox's own checks, with its npm dependencies from the tool cache (`npm ci` of the
committed lock, once per lock): its Vitest suite (web/inbox/test/: the conversations list, its
order, merging and unread counts) and TypeScript's strict type check of its sources."""

from __future__ import annotations

from simptu.devstack.settings import DevstackSettings
from simptu.devstack.toolchain.web import INBOX_MODULES


def test_the_inbox_s_vitest_suite_passes() -> None:
    done = INBOX_MODULES.run(DevstackSettings().tools_cache, "vitest/vitest.mjs", "run",
                             "--reporter=verbose")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert " passed" in done.stdout, done.stdout[-4000:]


def test_the_inbox_type_checks() -> None:
    done = INBOX_MODULES.run(DevstackSettings().tools_cache, "typescript/bin/tsc", "--noEmit")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
