"""Where the hotline stops scaling: the surge with 1, 2, 4, 8 web and worker processes.

For each step N (``--web`` and ``--workers`` name the steps, pairwise) it runs
``bench/surge.py``'s surge on a fresh PostgreSQL database and a redis-server of its own, with
gunicorn at N workers (4 threads each) and one celery worker of N pool processes, offering
``--rate-per-process`` first texts a second per process for ``--seconds``: more than a process
answers, so each step runs at what the stack can take. It prints, per step, the first replies
a second and their p99, and the CPU each part used (web, worker, PostgreSQL's backends for the
database, Redis), per text and in CPUs, then how far each step got from N times the first.

A step with more processes than the machine has CPUs is skipped and said so (``--oversubscribe``
runs it anyway): on 2 CPUs it runs 1 and 2. PostgreSQL is the one at
HOTLINE_BENCH_POSTGRES_URL, shared by every step; redis-server must be on the PATH.

    python bench/scaling.py [--web 1,2,4,8] [--workers 1,2,4,8] [--rate-per-process 40]
                            [--seconds 15] [--oversubscribe]

Exits non-zero when a step left a texter unanswered or answered one twice.
"""

from __future__ import annotations

import argparse
import os

import _checkout  # noqa: F401  (puts the checkout on sys.path: tests.support)
from surge import Outcome, run

from tests.support.scratch import scratch_database


def steps(web: str, workers: str) -> list[tuple[int, int]]:
    """``"1,2,4"`` and ``"1,2,4"`` as the pairs (1, 1), (2, 2), (4, 4); each 1-16."""
    webs = [max(1, min(int(n), 16)) for n in web.split(",") if n.strip()]
    pools = [max(1, min(int(n), 16)) for n in workers.split(",") if n.strip()]
    if len(webs) != len(pools) or not webs:
        raise SystemExit("--web and --workers need the same number of steps")
    return list(zip(webs, pools, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web", default="1,2,4,8", help="gunicorn workers per step")
    parser.add_argument("--workers", default="1,2,4,8", help="celery pool processes per step")
    parser.add_argument(
        "--rate-per-process", type=float, default=40, help="texts/s offered per process (1-200)"
    )
    parser.add_argument("--seconds", type=float, default=15, help="each step's surge (1-120 s)")
    parser.add_argument("--oversubscribe", action="store_true", help="run steps past the CPUs")
    args = parser.parse_args()
    rate = max(1.0, min(args.rate_per_process, 200.0))
    seconds = max(1.0, min(args.seconds, 120.0))
    cpus = os.cpu_count() or 1
    load = os.getloadavg()
    print(f"scaling: the surge at {rate:g} first texts/s per process for {seconds:g} s a step")
    print(f"  machine: {cpus} CPUs; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
          "(1/5/15 min) at the start")  # fmt: skip
    done: list[tuple[int, int, float, Outcome]] = []
    for web, workers in steps(args.web, args.workers):
        if max(web, workers) > cpus and not args.oversubscribe:
            print(f"  step web {web} / worker {workers}: skipped, more processes than the "
                  f"{cpus} CPUs of this machine (--oversubscribe runs it)")  # fmt: skip
            continue
        offered = rate * max(web, workers)
        texters = max(1, min(round(offered * seconds), 10_000))
        with scratch_database() as database_url:
            outcome = run(
                database_url,
                texters,
                seconds,
                workers,
                wait=120,
                linger=2,
                web_workers=web,
                quiet=True,
            )
        done.append((web, workers, texters / seconds, outcome))
        report_step(web, workers, texters / seconds, outcome)
    summary(done, cpus)
    failed = [f"web {w}/worker {p}: {o.failed}" for w, p, _, o in done if o.failed]
    if failed:
        raise SystemExit("FAILED: " + "; ".join(failed))


def report_step(web: int, workers: int, offered: float, outcome: Outcome) -> None:
    busy = outcome.busy or 1.0
    print(
        f"  step web {web} / worker {workers}: offered {offered:.0f} texts/s, "
        f"{outcome.rate:.1f} first replies/s, p50 {outcome.p50_ms:.0f} ms, "
        f"p99 {outcome.p99_ms:.0f} ms; answered {outcome.answered:,} of {outcome.texters:,}, "
        f"twice {outcome.twice}"
    )
    print(
        "    CPU per text: "
        + ", ".join(f"{role} {outcome.per_text_ms(role):.1f} ms" for role in outcome.cpu)
        + "; CPUs used: "
        + ", ".join(f"{role} {used / busy:.2f}" for role, used in outcome.cpu.items())
    )


def summary(done: list[tuple[int, int, float, Outcome]], cpus: int) -> None:
    if not done:
        print("no step ran")
        return
    base = done[0][3].rate / max(done[0][0], done[0][1]) if done[0][3].rate else 0.0
    for web, workers, _, outcome in done:
        n = max(web, workers)
        share = outcome.rate / (base * n) if base else 0.0
        used = sum(outcome.cpu.values()) / (outcome.busy or 1.0)
        print(f"  N={n}: {outcome.rate:.1f} first replies/s, {share:.2f} of N x the first step; "
              f"the stack used {used:.2f} of {cpus} CPUs")  # fmt: skip
    largest = max(max(w, p) for w, p, _, _ in done)
    print(f"  this machine has {cpus} CPUs: the steps ran up to N={largest}")


if __name__ == "__main__":
    main()
