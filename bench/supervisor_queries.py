"""How fast the supervisor's pages answer with 100,000 conversations on PostgreSQL.

Seeds a fresh database (20,000 texters, 100,000 conversations over 90 days, four texts each,
events), then times, through the real Flask app and API as a signed-in supervisor: the first
page of the logs, a filtered page, a page deep in the list, one conversation's timeline, and the
metrics over all of it and over the last 7 days (what the metrics page opens with), and the
transfer offers every console polls for. Prints the median and worst of several runs each.
Target: each under 300 ms. Bounded in count.

    python bench/supervisor_queries.py [--conversations 100000] [--runs 7]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

import _checkout  # noqa: F401  (puts the checkout on sys.path: tests.support)
from sqlalchemy import text

from hotline import create_app, runtime_of
from hotline.infra.taskqueue import InProcessQueue
from hotline.services.staff import do_create_staff
from hotline.sms.sender import LocalSender
from tests.support.scratch import bench_settings, scratch_database

SEED = """
INSERT INTO staff_users (email, password_hash, role, active, created_at, availability, totp_enabled)
SELECT 'advocate' || i || '@bench.org', 'x', 'advocate', true, now(), 'available', false
FROM generate_series(1, 20) AS i;

INSERT INTO texters (phone_hash, phone_ciphertext, language, created_at, last_seen_at)
SELECT md5(i::text) || md5((i * 7)::text), decode(':phone', 'hex'), 'en', now(), now()
FROM generate_series(1, :texters) AS i;

INSERT INTO conversations (texter_id, status, state, language, reasks, priority, returning_texter,
    risk_score, opened_at, last_activity_at, queued_at, claimed_at, closed_at, advocate_id,
    disposition, survey_score, close_reason, risk_reasons, first_reply_at)
SELECT 1 + (i % :texters), 'closed', 'ended', CASE WHEN i % 5 = 0 THEN 'es' ELSE 'en' END, 0,
    CASE WHEN i % 20 = 0 THEN 'urgent' WHEN i % 4 = 0 THEN 'high' ELSE 'normal' END,
    i > :texters, (i % 90),
    t, t + interval '40 minutes', t + interval '2 minutes',
    t + interval '2 minutes' + (i % 900) * interval '1 second',
    t + interval '35 minutes', (SELECT id FROM staff_users ORDER BY id LIMIT 1 OFFSET (i % 20)),
    (ARRAY['referred','safety_planning','information','texter_left'])[1 + i % 4],
    CASE WHEN i % 3 = 0 THEN 1 + i % 5 END, 'closed', '["passport (+25)"]'::json,
    t + interval '4 minutes' + (i % 600) * interval '1 second'
FROM (
    SELECT i, now() - (i % 90) * interval '1 day' - (i % 1440) * interval '1 minute' AS t
    FROM generate_series(1, :conversations) AS i
) AS s;

INSERT INTO messages (texter_id, conversation_id, direction, body_ciphertext, status,
    num_media, compliance_notice, send_attempts, created_at, author_id)
SELECT c.texter_id, c.id, CASE WHEN k % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
    decode(':body', 'hex'),
    CASE WHEN k % 2 = 0 THEN 'received' ELSE 'delivered' END, 0, false, 0,
    c.opened_at + k * interval '3 minutes',
    CASE WHEN k = 3 THEN c.advocate_id END
FROM conversations AS c CROSS JOIN generate_series(0, 3) AS k;

INSERT INTO events (kind, conversation_id, texter_id, created_at)
SELECT 'triage', c.id, c.texter_id, c.opened_at FROM conversations AS c;

INSERT INTO event_details (event_id, conversation_id, texter_id, detail)
SELECT e.id, e.conversation_id, e.texter_id, '{}'::json FROM events AS e;

ANALYZE;
"""


def timed(client: object, path: str, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    conversations = max(1000, min(args.conversations, 500_000))
    with scratch_database() as database_url:
        settings = bench_settings(
            database_url,
            public_url="http://hotline.bench",
            twilio_auth_token="bench",
        )
        app = create_app(
            {"settings": settings, "tasks": InProcessQueue(start=False), "sender": LocalSender()}
        )
        runtime = runtime_of(app)
        started = time.perf_counter()
        raw = runtime.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement in SEED.split(";\n"):
                if statement.strip():
                    values = {
                        ":texters": str(conversations // 5),
                        ":conversations": str(conversations),
                        ":phone": runtime.vault.encrypt("+15550100000").hex(),
                        ":body": runtime.vault.encrypt(
                            "a text of ordinary length, about this"
                        ).hex(),
                    }
                    for name, value in values.items():
                        statement = statement.replace(name, value)
                    cursor.execute(statement)
            raw.commit()
        finally:
            raw.close()
        seeded = time.perf_counter() - started
        with runtime.sessions.begin() as session:
            do_create_staff(session, "lead@bench.org", "a long bench password", "supervisor",
                            runtime.clock.now())  # fmt: skip
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        client.post(
            "/login",
            data={
                "email": "lead@bench.org",
                "password": "a long bench password",
                "csrf_token": csrf,
            },
        )
        with runtime.engine.connect() as connection:
            middle = connection.scalar(
                text("SELECT id FROM conversations ORDER BY id LIMIT 1 OFFSET :n"),
                {"n": conversations // 2},
            )
        today = datetime.now(UTC).date()
        checks = [
            ("log list, first page", "/supervisor/api/logs"),
            (
                "log list, filtered (urgent, Spanish)",
                "/supervisor/api/logs?priority=urgent&language=es",
            ),
            ("log list, deep page", f"/supervisor/api/logs?before_id={middle}"),
            ("a conversation's timeline", f"/console/api/conversations/{middle}"),
            # Every console asks this every few seconds.
            ("the console's transfer-offers poll", "/console/api/transfer-offers"),
            ("metrics, all 90 days", "/supervisor/api/metrics"),
            # What the metrics page opens with: the last 7 days, the end exclusive.
            (
                "metrics, last 7 days",
                f"/supervisor/api/metrics?opened_from={today - timedelta(days=6)}"
                f"&opened_to={today + timedelta(days=1)}",
            ),
        ]
        print(
            f"seeded {conversations:,} conversations, {conversations * 4:,} texts in {seeded:.0f} s"
        )
        print(
            f"PostgreSQL, through the Flask app as a signed-in supervisor, {args.runs} runs each:"
        )
        for label, path in checks:
            median, worst = timed(client, path, max(1, args.runs))
            verdict = "ok" if median < 300 else "OVER 300 ms"
            print(f"  {label:<40} median {median:7.1f} ms   worst {worst:7.1f} ms   {verdict}")
        runtime.engine.dispose()


if __name__ == "__main__":
    main()
