"""`helm install` of charts/simptu on the stack's own node until every Deployment is Available
(the image is already in the node's containerd; goal: under 60 s); prints a table.

    .venv/bin/python bench/bench_helm.py [--runs N]

Each run installs the chart into a fresh namespace as tests/integration/chart_install does
(local-values.yaml: hostNetwork, one replica each, pointed at the stack's services), measures
`helm install` (with its migrations hook Job) -> every Deployment Available, then `helm
uninstall` -> every object gone, and removes the namespace (the rendered chart's size and the
operator's RBAC rules: bench/bench_chart.py). A stack started with SIMPTU_NODE=0 runs no pods:
says so.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests.` as the tests import it

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from tests.integration.chart_install.release import LocalRelease

TIMEOUT = 300.0  # a run whose Deployments are not Available by then fails the benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="installs, one after the other")
    args = parser.parse_args()
    stack = StackEnv.load(DevstackSettings().env_file)
    if not stack.node:
        print("the stack runs no node (SIMPTU_NODE=0): nothing to install the chart on")
        return
    installs, uninstalls = [], []
    for run in range(args.runs):
        release = LocalRelease(stack)
        try:
            installs.append(release.install(timeout=TIMEOUT))
            started = time.monotonic()
            release.uninstall()
            uninstalls.append(time.monotonic() - started)
            print(f"  run {run + 1}: install {installs[-1]:.1f} s, "
                  f"uninstall {uninstalls[-1]:.1f} s", flush=True)
        finally:
            release.remove()
    print()
    print("| measure | value |")
    print("| --- | ---: |")
    print(f"| helm install -> every Deployment Available, median of {len(installs)} (s) "
          f"| {statistics.median(installs):.1f} |")
    print(f"| helm install -> every Deployment Available, slowest (s) | {max(installs):.1f} |")
    print(f"| helm uninstall --wait, median (s) | {statistics.median(uninstalls):.1f} |")


if __name__ == "__main__":
    main()
