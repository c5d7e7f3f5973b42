"""The widget's own unit tests (Vitest, web/widget/test/: the stream and resume logic), run with
its npm dependencies from the tool cache (`npm ci` of the committed lock, once per lock)."""

from __future__ import annotations

import shutil
import subprocess

from simptu.devstack.settings import DevstackSettings
from simptu.devstack.toolchain.web import WIDGET_MODULES, WIDGET_SOURCES


def test_the_widget_s_vitest_suite_passes() -> None:
    WIDGET_MODULES.link_into(DevstackSettings().tools_cache, WIDGET_SOURCES)
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run([node, "node_modules/vitest/vitest.mjs", "run", "--reporter=verbose"],
                          cwd=WIDGET_SOURCES, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert " passed" in done.stdout, done.stdout[-4000:]
