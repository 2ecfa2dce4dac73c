"""A surge: thousands of new texters each send a first text within a minute. Are all answered once?

Starts the production stack (gunicorn, a fresh PostgreSQL database, a redis-server of its own,
one ``celery worker`` process with its prefork pool, celery beat, and the local fake Twilio API,
which posts signed status callbacks back to ``/twilio/status`` as Twilio would), then sends one
first text from each of ``--texters`` distinct numbers, spread evenly over ``--seconds`` on a
clock (open loop: a slow server does not slow the senders down). Then it waits for the replies
(at most ``--wait`` seconds after the last text), and ``--linger`` seconds more for any reply
sent twice.

Prints how many texters got a reply, how many got one twice (the same text more than once: must
be 0), p50/p99/max of the time from the webhook request to the reply reaching the fake API
(the fake stamps each message as it accepts it), and at the end the resident memory (VmRSS) of
the web (gunicorn master and workers) and of the worker (celery main process and pool
children), and a line of CPU per first text: the web's and the worker's, and PostgreSQL's
(the backends serving the surge's database) and Redis's. Loopback only; bounded in count and
time.

    python bench/surge.py [--texters 2000] [--seconds 60] [--concurrency 4] [--web 2]
                          [--wait 300] [--linger 5]

Exits non-zero when a texter went unanswered or was answered twice. Needs PostgreSQL at
HOTLINE_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1/postgres) and
redis-server on the PATH.
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import _checkout  # noqa: F401  (puts the checkout on sys.path: tests.support)
import redis as redis_client
from sqlalchemy import create_engine, text

from hotline.sms.signature import sign
from tests.support import procfs
from tests.support.fake_twilio import FakeMessage, FakeTwilio
from tests.support.load import Client, Signed
from tests.support.scratch import scratch_database
from tests.support.stack import (
    Process,
    answers_ping,
    celery_beat,
    celery_worker,
    free_port,
    gunicorn,
    http_ready,
    production_env,
    redis_server,
    wait_until,
)

ACCOUNT_SID = "AC" + "0" * 31 + "7"
AUTH_TOKEN = "bench-auth-token"
SHORT_CODE = "+15005550006"
SENDERS = 16  # client threads; each text is sent at its scheduled moment by whichever is free


@dataclass
class Outcome:
    """What one surge measured (``bench/scaling.py`` runs several)."""

    texters: int
    answered: int = 0
    twice: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    busy: float = 0.0  # seconds from the first text to the last first reply
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds: web, worker, postgres, redis
    worker_main: float = 0.0  # CPU seconds of celery's main process, part of the worker's
    failed: str = ""

    @property
    def rate(self) -> float:
        return self.answered / self.busy if self.busy else 0.0

    def per_text_ms(self, role: str) -> float:
        return self.cpu.get(role, 0.0) / self.answered * 1000 if self.answered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texters", type=int, default=2000, help="distinct texters (1-10000)")
    parser.add_argument("--seconds", type=float, default=60, help="spread over (1-600 s)")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="the worker's pool processes (1-16)"
    )
    parser.add_argument("--web", type=int, default=2, help="gunicorn worker processes (1-16)")
    parser.add_argument(
        "--wait", type=float, default=300, help="seconds to wait for replies after (10-900)"
    )
    parser.add_argument(
        "--linger", type=float, default=5, help="seconds to watch for doubles after (0-60)"
    )
    args = parser.parse_args()
    texters = max(1, min(args.texters, 10_000))
    seconds = max(1.0, min(args.seconds, 600.0))
    concurrency = max(1, min(args.concurrency, 16))
    wait = max(10.0, min(args.wait, 900.0))
    linger = max(0.0, min(args.linger, 60.0))
    web_workers = max(1, min(args.web, 16))
    with scratch_database() as database_url:
        outcome = run(database_url, texters, seconds, concurrency, wait, linger, web_workers)
    if outcome.failed:
        raise SystemExit(f"FAILED: {outcome.failed}")


def run(
    database_url: str,
    texters: int,
    seconds: float,
    concurrency: int,
    wait: float,
    linger: float,
    web_workers: int = 2,
    quiet: bool = False,
) -> Outcome:
    """Run the surge and print its report (unless ``quiet``); what it measured, with
    ``failed`` naming unanswered or twice-answered texters ('' when none)."""
    log_dir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    redis_port, web_port = free_port(), free_port()
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
    fake.start()
    public_url = f"http://127.0.0.1:{web_port}"
    env = production_env(
        database_url=database_url,
        redis_port=redis_port,
        public_url=public_url,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=SHORT_CODE,
        api_base=fake.base_url,
    )
    redis = redis_server(redis_port, log_dir)
    web = gunicorn(web_port, env, log_dir, workers=web_workers)
    worker = celery_worker(env, log_dir, concurrency)
    processes: list[Process] = [redis, web, worker, celery_beat(env, log_dir)]
    phones = [f"+1555{index:07d}" for index in range(texters)]
    broker = redis_client.Redis(port=redis_port, socket_connect_timeout=0.5)
    load = os.getloadavg()
    try:
        for process in processes:
            process.start()
        wait_until(lambda: answers_ping(broker), 10, "redis-server")
        wait_until(http_ready(public_url + "/healthz"), 30, "gunicorn")
        wait_until(lambda: "ready." in worker.log(), 60, "the celery worker")
        roles = {"web": _pid(web), "worker": _pid(worker), "redis": _pid(redis)}
        cpu_before = {role: procfs.tree_cpu_seconds(pid) for role, pid in roles.items()}
        main_before = procfs.cpu_seconds(roles["worker"])
        postgres_before = _backend_cpu(database_url)
        started = time.monotonic()
        sent_at, refused, late = send_first_texts(public_url, phones, seconds)
        last_sent = time.monotonic()
        waiting = set(sent_at)

        def all_answered() -> bool:
            waiting.difference_update(m.to for m in fake.messages)
            return not waiting

        deadline = last_sent + wait  # bounded: an unanswered texter is reported
        while not all_answered() and time.monotonic() < deadline:
            time.sleep(0.2)
        busy = time.monotonic() - started
        cpu = {role: procfs.tree_cpu_seconds(pid) - cpu_before[role] for role, pid in roles.items()}
        worker_main = procfs.cpu_seconds(roles["worker"]) - main_before
        postgres_after = _backend_cpu(database_url)
        cpu["postgres"] = sum(
            used - postgres_before.get(pid, 0.0) for pid, used in postgres_after.items()
        )
        time.sleep(linger)
        messages = fake.messages
        memory = {role: procfs.tree_usage(roles[role]) for role in ("web", "worker")}
    finally:
        for process in reversed(processes):
            process.stop()
        fake.stop()
        broker.close()
    return report(
        texters,
        seconds,
        concurrency,
        web_workers,
        load,
        sent_at,
        refused,
        late,
        messages,
        memory,
        cpu,
        busy,
        quiet,
        worker_main,
    )


def send_first_texts(
    public_url: str, phones: list[str], seconds: float
) -> tuple[dict[str, float], int, float]:
    """One first text from each number, text ``i`` at ``i * seconds / len(phones)`` from now.

    Returns the moment each text answered 200 was due (wall clock, as the fake stamps its
    messages: latency counts from there, so a sender that fell behind hides nothing), how many
    the webhook did not answer 200, and how late the latest sender was, in seconds.
    """
    url = public_url + "/twilio/sms"
    interval = seconds / len(phones)
    texts = []  # signed before the clock starts: the senders only post
    for phone in phones:
        form = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": ACCOUNT_SID,
            "From": phone,
            "To": SHORT_CODE,
            "Body": "hello, I need help",
            "NumMedia": "0",
        }
        texts.append(Signed(urlencode(form).encode(), sign(AUTH_TOKEN, url, form)))
    port = int(public_url.rsplit(":", 1)[1])
    counter = itertools.count()
    sent_at: dict[str, float] = {}
    refused = 0
    late = 0.0
    lock = threading.Lock()
    start, wall_start = time.monotonic() + 0.5, time.time() + 0.5

    def sender() -> None:
        nonlocal refused, late
        client = Client(port)  # one keep-alive connection, as webhook_throughput.py uses
        try:
            while (index := next(counter)) < len(phones):
                time.sleep(max(0.0, start + index * interval - time.monotonic()))
                behind = time.monotonic() - (start + index * interval)
                status = client.post(texts[index])
                with lock:
                    late = max(late, behind)
                    if status == 200:
                        sent_at[phones[index]] = wall_start + index * interval
                    else:
                        refused += 1
        finally:
            client.close()

    threads = [threading.Thread(target=sender) for _ in range(min(SENDERS, len(phones)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent_at, refused, late


def report(
    texters: int,
    seconds: float,
    concurrency: int,
    web_workers: int,
    load: tuple[float, float, float],
    sent_at: dict[str, float],
    refused: int,
    late: float,
    messages: list[FakeMessage],
    memory: dict[str, list[procfs.Usage]],
    cpu: dict[str, float],
    busy: float,
    quiet: bool = False,
    worker_main: float = 0.0,
) -> Outcome:
    print_ = (lambda *_args, **_kwargs: None) if quiet else print
    first: dict[str, float] = {}
    for message in messages:  # oldest first
        first.setdefault(message.to, message.date_created.timestamp())
    twice = {to for (to, _body), count in Counter((m.to, m.body) for m in messages).items()
             if count > 1}  # fmt: skip
    per_texter = Counter(Counter(m.to for m in messages).values())
    answered = [phone for phone in sent_at if phone in first]
    ms = [(first[phone] - sent_at[phone]) * 1000 for phone in answered]
    print_(f"surge: {texters:,} new texters, one first text each, spread evenly over "
          f"{seconds:g} s ({texters / seconds:.1f} texts/s)")  # fmt: skip
    print_(f"  stack: gunicorn {web_workers} workers x 4 threads, PostgreSQL (fresh database), "
           "a private")  # fmt: skip
    print_(f"  redis-server, one celery worker ({concurrency} pool processes), celery beat,")
    print_("  the real twilio client against the local fake API, status callbacks on")
    print_(f"  machine: {os.cpu_count()} CPUs; load average {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f} (1/5/15 min) at the start")  # fmt: skip
    print_(
        f"webhook answered 200: {len(sent_at):,} of {texters:,} ({refused} refused or failed); "
        f"the senders were at most {late * 1000:.0f} ms behind their schedule"
    )
    print_(f"got the first reply: {len(answered):,} of {len(sent_at):,}; "
          f"got the same reply twice: {len(twice)}")  # fmt: skip
    print_("messages per texter: "
          + ", ".join(f"{n}: {k:,} texters" for n, k in sorted(per_texter.items())))  # fmt: skip
    outcome = Outcome(
        texters, len(answered), len(twice), busy=busy, cpu=dict(cpu), worker_main=worker_main
    )
    failed = []
    if len(answered) < texters:
        failed.append(f"{texters - len(answered)} texters got no reply")
    if twice:
        failed.append(f"{len(twice)} texters got a reply twice")
    if ms:
        p99 = _percentile(ms, 0.99)
        outcome.p50_ms, outcome.p99_ms = statistics.median(ms), p99
        verdict = "met" if p99 < 2000 and not failed else "MISSED"
        print_(f"webhook -> reply at the API: p50 {statistics.median(ms):.0f} ms, "
              f"p99 {p99:.0f} ms, max {max(ms):.0f} ms "
              f"(targets: all answered, none twice, p99 < 2 s: {verdict})")  # fmt: skip
    shares = [f"{role} {used:.1f} s ({used / busy:.2f} CPUs)" for role, used in cpu.items()]
    print_(
        f"from the first text to the last first reply: {busy:.1f} s, "
        f"{len(answered) / busy:.1f} first replies/s; CPU used: {', '.join(shares)}"
    )
    # CPU-seconds per text: less sensitive than rates or latencies to what else the machine runs.
    print_(
        "CPU per first text: "
        + ", ".join(f"{role} {outcome.per_text_ms(role):.1f} ms" for role in cpu)
        + " (the web's includes the two status callbacks; PostgreSQL's is its backends for"
        " this database, without its background writers)"
    )
    if outcome.answered:
        main_ms = worker_main / outcome.answered * 1000
        print_(f"  the worker's: celery's main process {main_ms:.1f} ms (receiving and handing "
               f"out tasks), its pool {outcome.per_text_ms('worker') - main_ms:.1f} ms "
               "(the jobs)")  # fmt: skip
    print_("resident memory after the surge (VmRSS):")
    for role, members in memory.items():
        total = sum(member.rss_kib for member in members) / 1024
        each = " + ".join(f"{member.rss_kib / 1024:.0f}" for member in members)
        shares = [member.pss_kib for member in members]
        pss = (
            f"; {sum(shares) / 1024:.0f} MiB counting each shared page once (Pss)"
            if None not in shares
            else ""
        )
        print_(f"  {role:<6} {total:6.0f} MiB  ({len(members)} processes: {each} MiB, "
              f"parent first{pss})")  # fmt: skip
    outcome.failed = "; ".join(failed)
    return outcome


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _backend_cpu(database_url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to ``database_url``'s database
    (the server runs on this machine). A backend that exits between two readings takes its
    CPU with it: the stack's pools keep theirs for the whole run."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            pids = connection.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()
    finally:
        engine.dispose()
    return {int(pid): procfs.cpu_seconds(int(pid)) for pid in pids}


def _pid(process: Process) -> int:
    assert process.popen is not None, f"{process.name} is not running"
    return process.popen.pid


if __name__ == "__main__":
    main()
