"""How well triage recognises who is at risk: the evaluation set through the real worker path.

Every row of ``bench/triage_eval/texts.csv`` (or ``--set holdout|blind|fresh``, or ``--file PATH``)
is sent as a first text from a new number: signed into ``POST /twilio/sms`` of an app on a scratch
SQLite database, and handled by the in-process queue, which runs ``process_pending``, the code
the worker runs. What the hotline then made of it is read back from the database and the outbox:

* emergency: the conversation was marked an emergency, which is what sends the 911 guidance
  (in English or Spanish; to a texter writing another language, their language's line says
  to call 911 too);
* priority: the conversation's priority (urgent, high, normal);
* minor: the conversation is flagged as a minor's;
* language: the language the texter writes in (the conversation's, or the detected language
  the hotline cannot text in).

Prints recall and precision per label, the priority and language confusion matrices, and the
texts each figure missed (with ``--misses``). The floor test (``tests/bench/test_triage_floor.py``)
holds the same figures to their floors.

    python bench/triage_eval.py [--set texts|holdout|blind|fresh] [--file PATH] [--misses]
"""

from __future__ import annotations

import argparse
import csv
import secrets
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from hotline import create_app, runtime_of
from hotline.db.migrate import upgrade
from hotline.db.models import Conversation, Texter
from hotline.db.session import make_engine
from hotline.domain.risk import Priority
from hotline.infra.taskqueue import InProcessQueue
from hotline.settings import Mode, Settings
from hotline.sms.sender import LocalSender
from hotline.sms.signature import sign

HERE = Path(__file__).parent / "triage_eval"
SETS = {
    "texts": HERE / "texts.csv",
    "holdout": HERE / "holdout.csv",
    "blind": HERE / "blind.csv",
    "fresh": HERE / "fresh.csv",
}
PRIORITIES = ("urgent", "high", "normal")
AUTH_TOKEN = "eval-auth-token"  # the scratch app's: signs nothing real
PUBLIC_URL = "http://hotline.eval"


@dataclass(frozen=True)
class Row:
    id: str
    text: str
    emergency: bool
    priority: str
    minor: bool
    language: str
    kind: str


@dataclass(frozen=True)
class Outcome:
    emergency: bool
    priority: str
    minor: bool
    language: str


def read(path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Row(
                id=raw["id"],
                text=raw["text"],
                emergency=raw["emergency"].strip() == "yes",
                priority=raw["priority"].strip(),
                minor=raw["minor"].strip() == "yes",
                language=raw["language"].strip(),
                kind=raw.get("kind", ""),
            )
            for raw in csv.DictReader(handle)
        ]


@contextmanager
def scratch_app() -> Iterator[Flask]:
    """An app on a scratch SQLite database, its tasks run by hand, its texts kept in an outbox."""
    with tempfile.TemporaryDirectory(prefix="hotline-eval-") as folder:
        database_url = f"sqlite:///{folder}/eval.db"
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        settings = Settings(
            mode=Mode.TEST,
            database_url=database_url,
            secret_key=secrets.token_hex(16),
            data_keys=(Fernet.generate_key().decode(),),
            hash_key=secrets.token_hex(16),
            public_url=PUBLIC_URL,
            twilio_auth_token=AUTH_TOKEN,
        )
        app = create_app(
            {"settings": settings, "tasks": InProcessQueue(start=False), "sender": LocalSender()}
        )
        try:
            yield app
        finally:
            runtime_of(app).engine.dispose()


def triage(app: Flask, rows: Iterable[Row]) -> list[Outcome]:
    """Each row's text as a first text from a new number, and what the hotline made of it."""
    runtime = runtime_of(app)
    tasks = runtime.tasks
    assert isinstance(tasks, InProcessQueue)
    client = app.test_client()
    outcomes = []
    for number, row in enumerate(rows):
        phone = f"+1555{number:07d}"
        form = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": "AC" + "0" * 32,
            "From": phone,
            "To": "233733",
            "Body": row.text,
            "NumMedia": "0",
        }
        signature = sign(AUTH_TOKEN, f"{PUBLIC_URL}/twilio/sms", form)
        answer = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200, answer.status_code
        tasks.run_due()
        with runtime.sessions() as session:
            texter = session.scalars(
                select(Texter).where(Texter.phone_hash == runtime.vault.phone_hash(phone))
            ).one()
            conversation = session.scalars(
                select(Conversation).where(Conversation.texter_id == texter.id)
            ).first()
            if conversation is None:  # STOP or DELETE as a first text: no conversation at all
                outcomes.append(Outcome(False, Priority.NORMAL.value, False, texter.language))
                continue
            outcomes.append(
                Outcome(
                    emergency=conversation.emergency_at is not None,
                    priority=Priority(conversation.priority).value,
                    minor=conversation.minor,
                    language=conversation.texter_language or conversation.language,
                )
            )
    return outcomes


@dataclass(frozen=True)
class Figure:
    """Recall and precision of one yes/no label."""

    name: str
    hits: int
    misses: int  # labelled yes, found no
    false: int  # labelled no, found yes
    negatives: int  # labelled no

    @property
    def recall(self) -> float:
        return self.hits / (self.hits + self.misses) if self.hits + self.misses else 1.0

    @property
    def precision(self) -> float:
        return self.hits / (self.hits + self.false) if self.hits + self.false else 1.0

    @property
    def false_rate(self) -> float:
        """Of the texts labelled no, the share found yes."""
        return self.false / self.negatives if self.negatives else 0.0


def figure(name: str, labelled: list[bool], found: list[bool]) -> Figure:
    pairs = list(zip(labelled, found, strict=True))
    return Figure(
        name,
        hits=sum(1 for want, got in pairs if want and got),
        misses=sum(1 for want, got in pairs if want and not got),
        false=sum(1 for want, got in pairs if got and not want),
        negatives=sum(1 for want, _ in pairs if not want),
    )


@dataclass(frozen=True)
class Figures:
    count: int
    emergency: Figure
    urgent: Figure  # labelled urgent (every emergency is): found urgent
    minor: Figure
    priority: dict[str, Figure]
    priority_matrix: Counter[tuple[str, str]]
    language_accuracy: float
    language_matrix: Counter[tuple[str, str]]


def evaluate(rows: list[Row], outcomes: list[Outcome]) -> Figures:
    languages = [o.language for o in outcomes]
    return Figures(
        count=len(rows),
        emergency=figure("emergency", [r.emergency for r in rows], [o.emergency for o in outcomes]),
        urgent=figure(
            "urgent or emergency",
            [r.priority == "urgent" or r.emergency for r in rows],
            [o.priority == "urgent" for o in outcomes],
        ),
        minor=figure("minor", [r.minor for r in rows], [o.minor for o in outcomes]),
        priority={
            level: figure(
                level, [r.priority == level for r in rows], [o.priority == level for o in outcomes]
            )
            for level in PRIORITIES
        },
        priority_matrix=Counter(
            (r.priority, o.priority) for r, o in zip(rows, outcomes, strict=True)
        ),
        language_accuracy=(
            sum(1 for r, got in zip(rows, languages, strict=True) if r.language == got) / len(rows)
            if rows
            else 1.0
        ),
        language_matrix=Counter((r.language, got) for r, got in zip(rows, languages, strict=True)),
    )


def run(rows: list[Row]) -> tuple[Figures, list[Outcome]]:
    with scratch_app() as app:
        outcomes = triage(app, rows)
    return evaluate(rows, outcomes), outcomes


def report(figures: Figures) -> str:
    lines = [f"{figures.count} texts", "", "label                recall  precision  false yes"]
    for item in (figures.emergency, figures.urgent, figures.minor, *figures.priority.values()):
        lines.append(
            f"{item.name:<20} {item.recall:6.3f}  {item.precision:9.3f}  "
            f"{item.false:3d} of {item.negatives:3d} ({item.false_rate:.1%})"
        )
    lines += ["", "priority: labelled (rows) x found (columns)"]
    lines.append(" " * 10 + "".join(f"{p:>8}" for p in PRIORITIES))
    for want in PRIORITIES:
        counts = "".join(f"{figures.priority_matrix[(want, got)]:8d}" for got in PRIORITIES)
        lines.append(f"{want:<10}{counts}")
    lines += ["", f"language accuracy {figures.language_accuracy:.3f}"]
    labelled = sorted({want for want, _ in figures.language_matrix})
    found = sorted({got for _, got in figures.language_matrix})
    lines.append(" " * 6 + "".join(f"{g:>5}" for g in found))
    for want in labelled:
        counts = "".join(f"{figures.language_matrix[(want, g)]:5d}" for g in found)
        lines.append(f"{want:<6}{counts}")
    return "\n".join(lines)


def misses(rows: list[Row], outcomes: list[Outcome]) -> str:
    """Each row where the hotline and the label disagree, and how."""
    lines = []
    for row, got in zip(rows, outcomes, strict=True):
        wrong = []
        if row.emergency != got.emergency:
            wrong.append(f"emergency {row.emergency}->{got.emergency}")
        if row.priority != got.priority:
            wrong.append(f"priority {row.priority}->{got.priority}")
        if row.minor != got.minor:
            wrong.append(f"minor {row.minor}->{got.minor}")
        if row.language != got.language:
            wrong.append(f"language {row.language}->{got.language}")
        if wrong:
            lines.append(f"{row.id:<14} {'; '.join(wrong):<50} {row.text}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="texts")
    parser.add_argument("--file", type=Path, help="a CSV with the evaluation set's columns")
    parser.add_argument("--misses", action="store_true", help="list the texts it got wrong")
    args = parser.parse_args()
    rows = read(args.file or SETS[args.set])
    figures, outcomes = run(rows)
    print(report(figures))
    if args.misses:
        print("\n" + misses(rows, outcomes))


if __name__ == "__main__":
    main()
