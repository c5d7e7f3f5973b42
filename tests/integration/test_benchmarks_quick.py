"""Every benchmark in bench/ runs to the end in a quick mode (tiny sizes, seconds each) against
the local stack, so a benchmark that crashes fails the suite; its figures are only printed,
never asserted (`make bench` runs the full sizes and the closing notes keep the figures)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simptu.devstack.envfile import StackEnv
from tests.ports import free_port

BENCH = Path(__file__).resolve().parents[2] / "bench"

# Each benchmark's quick mode: its own options at their smallest useful sizes.
QUICK = {
    "bench_agent.py": ["--messages", "3"],
    "bench_api.py": ["--requests", "80", "--concurrency", "2"],  # p99 needs 2 per endpoint
    "bench_booking_com.py": ["--reservations", "10", "--mails", "5"],
    "bench_bookings.py": ["--seconds", "0.3", "--clients", "2"],
    "bench_chart.py": ["--runs", "1"],
    "bench_crypto.py": ["--rows", "20", "--fields", "200"],
    "bench_email.py": ["--mails", "20", "--replies", "2", "--no-hold"],
    "bench_embeddings.py": ["--runs", "5", "--long-runs", "1"],
    "bench_eval.py": ["--limit", "5"],
    "bench_inbox.py": ["--runs", "2", "--tenant", "hotel-carpati-brasov"],
    "bench_faults.py": ["--conversations", "1", "--faults", "hub"],
    "bench_helm.py": ["--runs", "1"],
    "bench_kafka_auth.py": ["--messages", "5", "--tenants", "3"],
    "bench_knowledge.py": ["--runs", "3", "--entries", "20"],
    "bench_meta.py": ["--requests", "50", "--conversations", "3"],
    "bench_node.py": ["--tenants", "1", "--idle", "5"],
    "bench_openbao_login.py": ["--runs", "2"],
    "bench_operator.py": ["--single", "1", "--burst", "2"],
    "bench_outbox.py": ["--events", "50", "--rate", "100"],
    "bench_pipeline.py": ["--messages", "3", "--sessions", "1"],
    "bench_postgres_login.py": ["--runs", "2"],
    "bench_redis_acl.py": ["--runs", "2"],
    "bench_twilio.py": ["--requests", "15", "--calls", "3"],
    "bench_widget.py": ["--runs", "2", "--tenant", "pulse-fitness-timisoara"],
    "bench_ws.py": ["--connections", "40", "--fanout", "5", "--events", "2",
                    "--processes", "1", "--port", str(free_port())],
}


def test_every_benchmark_has_a_quick_mode() -> None:
    assert sorted(QUICK) == sorted(path.name for path in BENCH.glob("bench_*.py"))


@pytest.mark.parametrize("script", sorted(QUICK))
def test_a_benchmark_runs_to_the_end_and_prints_its_table(stack: StackEnv, script: str) -> None:
    # A limit so a benchmark that hangs fails instead of stalling the suite; not a speed goal.
    done = subprocess.run([sys.executable, str(BENCH / script), *QUICK[script]],
                          capture_output=True, text=True, timeout=900, check=False)
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, output
    if script == "bench_node.py" and not stack.node:  # a stack started with SIMPTU_NODE=0
        assert "the stack runs no node" in done.stdout, output
        return
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert any(set(line) <= set("|-: ") for line in table), output  # a header separator
    assert len(table) >= 3, output  # header, separator and at least one row of figures
