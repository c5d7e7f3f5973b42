"""The Helm chart's size: how many objects it renders (with the minimal values a platform team
sets, and with every optional feature on), by kind, how many rules the operator's ClusterRole
has (smaller is better for both), and how long `helm template` takes; prints a table.

    .venv/bin/python bench/bench_chart.py [--runs N]

Uses the stack's helm (SIMPTU_HELM of `make -s env`) and the values files of the chart's tests
(tests/integration/chart/values-*.yaml). `helm install` to all Available is measured where the
chart is installed on the stack's node (tests/integration/chart install tests).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "charts" / "simptu"
VALUES = REPO / "tests" / "integration" / "chart"
PROFILES = {"minimal values": ("values-minimal.yaml",),
            "every feature on": ("values-minimal.yaml", "values-everything.yaml")}


def render(helm: str, files: tuple[str, ...]) -> tuple[list[dict[str, Any]], float]:
    argv = [helm, "template", "simptu", str(CHART), "--namespace", "simptu"]
    for name in files:
        argv += ["-f", str(VALUES / name)]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120)
    seconds = time.perf_counter() - started
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc], seconds


def crd_count() -> int:
    return sum(1 for path in (CHART / "crds").iterdir()
               for doc in yaml.safe_load_all(path.read_text()) if doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="renders per profile (timing)")
    args = parser.parse_args()
    env = StackEnv.load(DevstackSettings().env_file)
    helm = env["SIMPTU_HELM"]
    print("| profile | objects | CRDs | Deployments | operator RBAC rules | "
          "`helm template` median (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    kinds_by_profile = {}
    for profile, files in PROFILES.items():
        timings = []
        objects: list[dict[str, Any]] = []
        for _ in range(max(1, args.runs)):
            objects, seconds = render(helm, files)
            timings.append(seconds)
        kinds = Counter(o["kind"] for o in objects)
        kinds_by_profile[profile] = kinds
        role = [o for o in objects if o["kind"] == "ClusterRole"]
        rules = len(role[0]["rules"]) if role else 0
        print(f"| {profile} | {len(objects)} | {crd_count()} | {kinds['Deployment']} | {rules} "
              f"| {statistics.median(timings):.2f} |")
    print()
    print("| kind | " + " | ".join(PROFILES) + " |")
    print("| --- |" + " ---: |" * len(PROFILES))
    for kind in sorted(set().union(*kinds_by_profile.values())):
        print(f"| {kind} | " + " | ".join(str(kinds_by_profile[p][kind]) for p in PROFILES)
              + " |")


if __name__ == "__main__":
    main()
