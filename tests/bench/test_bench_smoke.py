"""The load benchmarks, run with tiny numbers so they keep working: each starts its real stack
(gunicorn, PostgreSQL, a redis-server of its own; the surge also a celery worker, beat and the
fake Twilio API), prints its figures and checks its own counts (non-zero exit otherwise).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PostgresServer, unavailable

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(postgres: PostgresServer, script: str, *args: str) -> str:
    """Run ``bench/<script>`` to the end; its output. Fails the test on a non-zero exit."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server")
    env = {**os.environ, "HOTLINE_BENCH_POSTGRES_URL": postgres.admin_url}
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_webhook_throughput_reports_both_rates_and_stores_every_text_it_answered(
    postgres: PostgresServer,
) -> None:
    tiny = [
        "--clients",
        "2",
        "--rounds",
        "1",
        "--seconds",
        "0.5",
        "--rate",
        "50",
        "--warm-up",
        "20",
    ]
    out = run_bench(postgres, "webhook_throughput.py", *tiny, "--rate-seconds", "1", "--floor")

    rates = re.findall(
        r"^  (bare Flask|/twilio/sms|raw drivers) +([\d,]+) requests/s", out, re.MULTILINE
    )
    assert [name for name, _ in rates] == ["bare Flask", "/twilio/sms", "raw drivers"]
    assert all(int(rate.replace(",", "")) > 0 for _, rate in rates)
    assert re.search(r"ratio /twilio/sms / bare: \d+\.\d\d", out)
    assert re.search(r"ratio raw drivers / bare: \d+\.\d\d", out)
    assert re.search(
        r"ratio /twilio/sms / raw drivers: \d+\.\d\d .*; gunicorn CPU per request "
        r"[\d.]+ vs [\d.]+ ms",
        out,
    )
    assert len(re.findall(r"p50 [\d.]+ ms, p99 [\d.]+ ms", out)) == 2
    answered, stored, queued = re.findall(
        r"check: ([\d,]+) texts answered 200 by /twilio/sms, ([\d,]+) stored, ([\d,]+) tasks", out
    )[0]
    assert int(answered.replace(",", "")) > 20 + 50  # the warm-up, then the open loop's
    assert answered == stored == queued


def test_surge_answers_every_texter_once_and_reports_memory(postgres: PostgresServer) -> None:
    tiny = ["--texters", "8", "--seconds", "2", "--concurrency", "2", "--linger", "1"]
    out = run_bench(postgres, "surge.py", *tiny)

    assert "webhook answered 200: 8 of 8" in out
    assert "got the first reply: 8 of 8; got the same reply twice: 0" in out
    assert re.search(r"webhook -> reply at the API: p50 \d+ ms, p99 \d+ ms", out)
    web = re.search(r"^  web +(\d+) MiB  \((\d+) processes", out, re.MULTILINE)
    worker = re.search(r"^  worker +(\d+) MiB  \((\d+) processes", out, re.MULTILINE)
    assert web and worker, out
    assert int(web[2]) == 3  # the gunicorn master and its 2 workers
    assert int(worker[2]) == 3  # the celery main process and its 2 pool processes
    assert int(web[1]) > 0 and int(worker[1]) > 0
    per_text = re.search(
        r"^CPU per first text: web ([\d.]+) ms, worker ([\d.]+) ms, redis ([\d.]+) ms, "
        r"postgres ([\d.]+) ms",
        out,
        re.MULTILINE,
    )
    assert per_text, out
    assert float(per_text[1]) > 0 and float(per_text[2]) > 0 and float(per_text[4]) > 0
    assert "+1555" not in out  # no texter's number in what it prints


def test_scaling_runs_each_step_it_can_and_says_which_it_skipped(
    postgres: PostgresServer,
) -> None:
    cpus = os.cpu_count() or 1
    tiny = ["--rate-per-process", "3", "--seconds", "2"]
    out = run_bench(postgres, "scaling.py", "--web", f"1,{cpus + 1}", "--workers", "1,1", *tiny)

    step = re.search(
        r"^  step web 1 / worker 1: offered 3 texts/s, ([\d.]+) first replies/s, "
        r"p50 \d+ ms, p99 \d+ ms; answered 6 of 6, twice 0$",
        out,
        re.MULTILINE,
    )
    assert step and float(step[1]) > 0, out
    assert re.search(r"^    CPU per text: web [\d.]+ ms, worker [\d.]+ ms, redis [\d.]+ ms, "
                     r"postgres [\d.]+ ms; CPUs used: web [\d.]+", out, re.MULTILINE)  # fmt: skip
    assert f"step web {cpus + 1} / worker 1: skipped, more processes than the {cpus} CPUs" in out
    assert "N=1: " in out and "the steps ran up to N=1" in out
    assert "+1555" not in out


def test_long_conversation_reports_each_texts_cost_and_processes_them_all(
    postgres: PostgresServer,
) -> None:
    out = run_bench(postgres, "long_conversation.py", "--texts", "20")

    assert "check: 20 of 20 texts processed, into 1 conversation(s)" in out
    costs = re.findall(r"^  text +(\d+): cpu +[\d.]+ ms .* decryptions +(\d+)$", out, re.MULTILINE)
    assert [at for at, _ in costs] == ["1", "10", "20"]
    assert all(int(decrypted) <= 3 for _, decrypted in costs)  # each text read once


def test_worker_cpu_reports_a_first_texts_statements_and_cpu(postgres: PostgresServer) -> None:
    out = run_bench(postgres, "worker_cpu.py", "--texts", "10")

    assert re.search(
        r"statements for one first text: \d+ \(INSERT \d+, SELECT \d+, UPDATE \d+\)", out
    )
    cpu = re.search(r"this thread's CPU: ([\d.]+) ms per first text", out)
    assert cpu and float(cpu[1]) > 0, out
    assert "check: 60 of 60 texters got a reply" in out
    assert "+1555" not in out
