"""Configuration: the only module that reads the process environment.

Everything else receives a :class:`Settings`. Reading happens in :meth:`Settings.from_env`, which
validates all of it at once so a misconfigured deployment fails at start-up with one clear
message, not at the first text that needs the missing piece.

Each variable is one row of :data:`VARIABLES`: its name, the field it sets and the reader that
checks its text; an unset variable leaves the field's default. What depends on the mode (what
production requires, what the demo and tests invent) and what spans several variables (Twilio's
credentials, the database roles) is written out below the table.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from hotline.domain import hours, reach
from hotline.domain.segments import count_segments

MAX_ORG_NAME = 40  # GSM-7 septets: every text holding it fits in two segments
MAX_TRUSTED_PROXIES = 5  # more hops than this in front of one app is a misconfiguration
MIN_SECRET_KEY_BYTES = 32  # it signs the sign-in form's token: as strong as a data key


class Mode(StrEnum):
    """How the hotline runs. Demo and test may invent secrets; production never does."""

    PRODUCTION = "production"
    DEVELOPMENT = "development"
    DEMO = "demo"
    TEST = "test"

    @property
    def lenient(self) -> bool:
        """True where missing secrets are generated instead of refused."""
        return self is not Mode.PRODUCTION


class SettingsError(RuntimeError):
    """A setting is missing or malformed. The message names the variables, never their values."""


@dataclass(frozen=True)
class Settings:
    mode: Mode
    database_url: str
    secret_key: str
    data_keys: tuple[str, ...]
    hash_key: str | None = None
    redis_url: str | None = None
    public_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base: str | None = None
    # Seconds a stored inbound text may wait for its worker before the sweep hands it over again.
    sweep_grace_seconds: float = 30.0
    sweep_interval_seconds: float = 15.0
    # Sending: retry 429/5xx with exponential backoff, at most this many times.
    send_max_retries: int = 8
    send_backoff_base_seconds: float = 2.0
    send_backoff_max_seconds: float = 300.0
    twilio_timeout_seconds: float = 10.0
    # Longer inbound texts are kept cut here, with a marker (hotline.sms.inbound.keep_body).
    max_body_chars: int = 10_000
    # Triage: what texters read, and the timers of the conversation.
    # The program's name in each language's texts; the copy puts it first ("{org}: ..."), so a
    # name reads right without an article. GSM-7 only ("Linea": an í would halve every text).
    org_name: str = "Anti-Trafficking Hotline"
    org_name_es: str = "Linea contra la Trata de Personas"
    # Texts the hotline sends first never name the organisation or mention trafficking: the
    # phone may be read by an abuser. Replies to HELP, STOP and START name it all the same.
    discreet_mode: bool = True
    safe_word: str = "CLEAR"
    survey_enabled: bool = True
    triage_timeout_minutes: float = 15.0  # silence while answering questions: close
    wait_update_minutes: float = 10.0  # queued: a wait update this often
    check_in_after_minutes: float = 30.0  # queued and silent this long: "still there?"
    check_in_timeout_minutes: float = 10.0  # no answer to "still there?": release
    survey_timeout_minutes: float = 60.0
    # After an advocate closes, they may reopen it this long; the survey waits until then.
    reopen_minutes: float = 5.0
    # A transfer to a named advocate waits this long for them to accept, then comes back.
    transfer_accept_minutes: float = 3.0
    timer_tick_seconds: float = 15.0  # how often due timers are looked for
    # Emergencies: the 911 guidance goes out again only after this long, however many
    # emergency texts arrive (each is still recorded and raises the alert again).
    emergency_guidance_minutes: float = 5.0
    # Waiting: at most this many texts a queued texter did not ask for, per hour; a text from
    # them gets one short acknowledgement per ``ack_minutes``; a texter released from the queue
    # who texts again within ``keep_place_minutes`` keeps their place.
    unprompted_per_hour: int = 2
    ack_minutes: float = 5.0
    keep_place_minutes: float = 120.0
    # When advocates answer: a weekly schedule in the hotline's time zone (None: always open),
    # and the numbers and address shown to texters when nobody can answer.
    # A schedule as hotline.domain.hours reads it ("mon-fri 09:00-17:00; sat 10:00-14:00").
    operating_hours: str | None = None
    timezone: str = "America/New_York"
    voice_number: str = ""
    web_address: str = ""
    # An advocate whose console has not polled for this long is away; their texters go back.
    presence_grace_minutes: float = 2.0
    # Supervisors are alerted when an urgent texter waits in the queue this long, and when a
    # texter's text has gone this long without an answer from the advocate holding them.
    urgent_wait_alert_minutes: float = 2.0
    unanswered_alert_minutes: float = 5.0
    # Staff console.
    capacity: int = 3  # active conversations one advocate may hold
    session_idle_minutes: float = 30.0  # without a person's action (background polls do not count)
    session_idle_warning_minutes: float = 2.0  # the "still there?" prompt shows this long before
    session_max_hours: float = 12.0
    sign_in_max_failures: int = 5  # within the lockout window, before sign-in is refused
    sign_in_lockout_minutes: float = 15.0
    # Per client address, shared by the password and the code form (hotline.web.throttle).
    sign_in_per_client_per_minute: int = 20
    require_2fa_for_supervisors: bool = False
    # How many proxies in front of the web app append to X-Forwarded-For. 0: the connection's
    # own address is the client's, and X-Forwarded-For is ignored (anyone can write it).
    trusted_proxies: int = 0
    # Privacy: texts, notes and numbers of conversations closed this long ago are erased.
    retention_days: float = 90.0
    # Staff records that only ever grow: sign-in attempts and ended sessions are deleted after
    # this many days (the lockout looks back minutes, the audit trail keeps each sign-in).
    staff_record_days: float = 30.0
    # A folder with lexicon_en.toml / lexicon_es.toml replacing the shipped risk lexicons.
    lexicon_dir: str | None = None
    # Weekly quality review: conversations drawn from last week's closed ones, and how many of
    # each advocate's at least (the minimum wins when it takes the sample past its size).
    review_sample_size: int = 10
    review_per_advocate: int = 1
    # Reports for outside use (`hotline report`, the supervisors' export): counts from 1 to
    # this minus one are suppressed (hotline.domain.suppression).
    report_suppress_below: int = 5
    # PostgreSQL with two roles: `hotline db upgrade` connects with this URL (the owner of the
    # tables) instead of `database_url`, and grants `database_app_role` what the app needs.
    migrate_database_url: str | None = field(default=None, repr=False)
    database_app_role: str | None = None
    # Operations (hotline.infra.metrics, hotline.infra.logs): after a failed hand-off to the
    # broker, skip hand-offs this long and leave the stored work to the sweep; GET /metrics
    # exists only with a bearer token set (24 characters or more); "json" logs one JSON
    # object a line. The multiprocess folder is prometheus_client's own variable.
    broker_pause_seconds: float = 30.0
    metrics_token: str | None = field(default=None, repr=False)
    metrics_multiprocess_dir: str | None = None
    log_format: str = "text"

    # Production on SQLite: only for a one-process install (one web worker, tasks in-process).
    allow_sqlite: bool = False

    @property
    def on_sqlite(self) -> bool:
        from sqlalchemy.engine import make_url  # parsing only: no driver, no connection

        return make_url(self.database_url).get_backend_name() == "sqlite"

    @property
    def uses_twilio(self) -> bool:
        return self.twilio_account_sid is not None

    @property
    def embedded(self) -> bool:
        """No broker: tasks run in-process and periodic jobs on an in-process ticker."""
        return self.redis_url is None

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        mode: Mode | None = None,
        instance_path: Path | None = None,
    ) -> Settings:
        """Build settings from the environment, refusing an incomplete production setup.

        Raises :class:`SettingsError` listing every missing or malformed variable.
        """
        env = os.environ if environ is None else environ
        if mode is None:
            mode = _read_mode(env)
        instance = instance_path or Path.cwd() / "instance"
        values: dict[str, Any] = {}
        refused: set[str] = set()  # fields whose variable is set but malformed
        malformed: list[str] = []
        for variable in VARIABLES:
            raw = env.get(variable.name, "").strip()
            if not raw:  # blank counts as unset
                continue
            try:
                values[variable.field] = variable.read(raw)
            except _Refused as refusal:
                refused.add(variable.field)
                malformed += [f"{variable.name} {reason}" for reason in refusal.reasons]
        given = set(values)  # before the demo's database fills in for a missing one
        values.setdefault("database_url", f"sqlite:///{instance / 'hotline.sqlite3'}")

        problems = _twilio_problems(values) + malformed + _database_roles(values)
        if mode.lenient:  # after the Twilio check: an invented token is no credential given
            _invent_secrets(values, refused, instance)
        else:
            problems = _missing_in_production(values, refused, given) + problems
        if problems:
            raise SettingsError(
                "hotline cannot start: " + "; ".join(problems) + f" (HOTLINE_ENV={mode.value})"
            )
        return cls(mode=mode, **values)


class _Refused(Exception):
    """A variable's text cannot be used. Each reason completes a sentence that starts with the
    variable's name, and never quotes the value (it may be a secret)."""

    def __init__(self, *reasons: str) -> None:
        super().__init__(*reasons)
        self.reasons = reasons


def _text(raw: str) -> str:
    return raw


def _url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise _Refused("must start with http:// or https://")
    return raw.rstrip("/")


def _positive(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # float() also takes "nan" and "inf"
        raise _Refused("must be a number")
    if value <= 0:
        raise _Refused("must be greater than zero")
    return value


def _whole(least: int, most: int) -> Callable[[str], int]:
    def read(raw: str) -> int:
        if not (raw.isascii() and raw.isdigit() and least <= int(raw) <= most):
            raise _Refused(f"must be a whole number from {least} to {most}")
        return int(raw)

    return read


_count = _whole(1, 1000)
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _flag(raw: str) -> bool:
    if raw.lower() not in _TRUE | _FALSE:
        raise _Refused("must be true or false")
    return raw.lower() in _TRUE


def _org_name(raw: str) -> str:
    count = count_segments(raw)
    if count.encoding != "GSM-7":
        raise _Refused(
            "must be plain GSM-7 text (no á í ó ú, curly quotes or emoji: "
            "one would halve what fits in a text)"
        )
    if count.units > MAX_ORG_NAME:
        raise _Refused(f"must be at most {MAX_ORG_NAME} characters (texts fit in 2 SMS)")
    return raw


def _safe_word(raw: str) -> str:
    if not (raw.isascii() and raw.isalpha() and 3 <= len(raw) <= 12):
        raise _Refused("must be one word of 3 to 12 letters A-Z")
    return raw.upper()


def _lexicon_dir(raw: str) -> str:
    missing = [
        f"has no lexicon_{language}.toml"
        for language in ("en", "es")
        if not (Path(raw) / f"lexicon_{language}.toml").is_file()
    ]
    if missing:
        raise _Refused(*missing)
    return raw


def _schedule(raw: str) -> str | None:
    try:
        return hours.canonical(hours.parse(raw)) or None
    except hours.ScheduleError:  # its message quotes the value
        raise _Refused(
            "must be a weekly schedule like 'mon-fri 09:00-17:00; sat 10:00-14:00'"
        ) from None


def _time_zone(raw: str) -> str:
    try:
        hours.zone(raw)
    except hours.ScheduleError:
        raise _Refused("must be a time zone name like America/New_York") from None
    return raw


def _checked(check: Callable[[str], str]) -> Callable[[str], str]:
    """A domain check, whose ValueError says what is wrong without quoting, as a reader."""

    def read(raw: str) -> str:
        try:
            return check(raw)
        except ValueError as problem:
            raise _Refused(str(problem)) from None

    return read


MIN_METRICS_TOKEN = 24


def _metrics_token(raw: str) -> str:
    if len(raw) < MIN_METRICS_TOKEN or not (raw.isascii() and raw.isprintable()) or " " in raw:
        raise _Refused(f"must be at least {MIN_METRICS_TOKEN} ASCII characters, without spaces")
    return raw


def _log_format(raw: str) -> str:
    if raw.lower() not in ("text", "json"):
        raise _Refused("must be text or json")
    return raw.lower()


def _secret_key(raw: str) -> str:
    if len(raw.encode()) < MIN_SECRET_KEY_BYTES:
        raise _Refused(
            f"must be at least {MIN_SECRET_KEY_BYTES} bytes "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))' prints one)"
        )
    return raw


def _key(raw: str) -> str:
    if not _is_fernet_key(raw):
        raise _Refused("is not 32 bytes of URL-safe base64")
    return raw


def _keys(raw: str) -> tuple[str, ...]:
    """Comma-separated keys, newest first; bad ones are named by position, not value. Only
    commas and spaces read as no key at all, which counts as missing, not as none needed."""
    keys = tuple(key.strip() for key in raw.split(",") if key.strip())
    bad = [
        f"entry {position} is not 32 bytes of URL-safe base64"
        for position, key in enumerate(keys, start=1)
        if not _is_fernet_key(key)
    ]
    if bad:
        raise _Refused(*bad)
    return keys


class Variable(NamedTuple):
    """One environment variable: the :class:`Settings` field it sets, and the reader that turns
    its (stripped, non-blank) text into the field's value or raises :class:`_Refused`."""

    name: str
    field: str
    read: Callable[[str], Any]


# Every variable the hotline reads but HOTLINE_ENV. A new setting is a field of Settings, with its
# default, and one row here.
VARIABLES: tuple[Variable, ...] = (
    Variable("HOTLINE_DATABASE_URL", "database_url", _text),
    Variable("HOTLINE_REDIS_URL", "redis_url", _text),
    Variable("HOTLINE_SECRET_KEY", "secret_key", _secret_key),
    Variable("HOTLINE_DATA_KEYS", "data_keys", _keys),
    # Opt-outs and returning texters are found by this hash: it must outlive any data key.
    Variable("HOTLINE_HASH_KEY", "hash_key", _key),
    Variable("HOTLINE_PUBLIC_URL", "public_url", _url),
    Variable("TWILIO_ACCOUNT_SID", "twilio_account_sid", _text),
    Variable("TWILIO_AUTH_TOKEN", "twilio_auth_token", _text),
    Variable("TWILIO_FROM", "twilio_from", _text),
    Variable("TWILIO_MESSAGING_SERVICE_SID", "twilio_messaging_service_sid", _text),
    Variable("TWILIO_API_BASE", "twilio_api_base", _url),
    # Tuning knobs: positive numbers.
    Variable("HOTLINE_SWEEP_INTERVAL_SECONDS", "sweep_interval_seconds", _positive),
    Variable("HOTLINE_SWEEP_GRACE_SECONDS", "sweep_grace_seconds", _positive),
    Variable("HOTLINE_SEND_BACKOFF_SECONDS", "send_backoff_base_seconds", _positive),
    Variable("TWILIO_TIMEOUT_SECONDS", "twilio_timeout_seconds", _positive),
    Variable("HOTLINE_TRIAGE_TIMEOUT_MINUTES", "triage_timeout_minutes", _positive),
    Variable("HOTLINE_WAIT_UPDATE_MINUTES", "wait_update_minutes", _positive),
    Variable("HOTLINE_CHECK_IN_AFTER_MINUTES", "check_in_after_minutes", _positive),
    Variable("HOTLINE_CHECK_IN_TIMEOUT_MINUTES", "check_in_timeout_minutes", _positive),
    Variable("HOTLINE_SURVEY_TIMEOUT_MINUTES", "survey_timeout_minutes", _positive),
    Variable("HOTLINE_REOPEN_MINUTES", "reopen_minutes", _positive),
    Variable("HOTLINE_TRANSFER_ACCEPT_MINUTES", "transfer_accept_minutes", _positive),
    Variable("HOTLINE_TIMER_TICK_SECONDS", "timer_tick_seconds", _positive),
    Variable("HOTLINE_EMERGENCY_GUIDANCE_MINUTES", "emergency_guidance_minutes", _positive),
    Variable("HOTLINE_ACK_MINUTES", "ack_minutes", _positive),
    Variable("HOTLINE_KEEP_PLACE_MINUTES", "keep_place_minutes", _positive),
    Variable("HOTLINE_PRESENCE_GRACE_MINUTES", "presence_grace_minutes", _positive),
    Variable("HOTLINE_URGENT_WAIT_ALERT_MINUTES", "urgent_wait_alert_minutes", _positive),
    Variable("HOTLINE_UNANSWERED_ALERT_MINUTES", "unanswered_alert_minutes", _positive),
    Variable("HOTLINE_SESSION_IDLE_MINUTES", "session_idle_minutes", _positive),
    Variable("HOTLINE_SESSION_IDLE_WARNING_MINUTES", "session_idle_warning_minutes", _positive),
    Variable("HOTLINE_SESSION_MAX_HOURS", "session_max_hours", _positive),
    Variable("HOTLINE_SIGN_IN_LOCKOUT_MINUTES", "sign_in_lockout_minutes", _positive),
    Variable("HOTLINE_RETENTION_DAYS", "retention_days", _positive),
    Variable("HOTLINE_STAFF_RECORD_DAYS", "staff_record_days", _positive),
    # Counts: whole numbers from 1.
    Variable("HOTLINE_CAPACITY", "capacity", _count),
    Variable("HOTLINE_SIGN_IN_MAX_FAILURES", "sign_in_max_failures", _count),
    Variable("HOTLINE_SIGN_IN_PER_CLIENT_PER_MINUTE", "sign_in_per_client_per_minute", _count),
    Variable("HOTLINE_REVIEW_SAMPLE_SIZE", "review_sample_size", _count),
    Variable("HOTLINE_UNPROMPTED_PER_HOUR", "unprompted_per_hour", _count),
    # Zero allowed: no minimum, a plain random sample.
    Variable("HOTLINE_REVIEW_PER_ADVOCATE", "review_per_advocate", _whole(0, 100)),
    # From 2: a threshold of 1 would suppress nothing.
    Variable("HOTLINE_REPORT_SUPPRESS_BELOW", "report_suppress_below", _whole(2, 100)),
    # Zero allowed (and the default): trust no proxy's word about the client.
    Variable("HOTLINE_TRUSTED_PROXIES", "trusted_proxies", _whole(0, MAX_TRUSTED_PROXIES)),
    # Flags.
    Variable("HOTLINE_DISCREET_MODE", "discreet_mode", _flag),
    Variable("HOTLINE_SURVEY", "survey_enabled", _flag),
    Variable("HOTLINE_REQUIRE_2FA_FOR_SUPERVISORS", "require_2fa_for_supervisors", _flag),
    Variable("HOTLINE_ALLOW_SQLITE", "allow_sqlite", _flag),
    # What texters read.
    Variable("HOTLINE_ORG_NAME", "org_name", _org_name),
    Variable("HOTLINE_ORG_NAME_ES", "org_name_es", _org_name),
    Variable("HOTLINE_LEXICON_DIR", "lexicon_dir", _lexicon_dir),
    Variable("HOTLINE_SAFE_WORD", "safe_word", _safe_word),
    Variable("HOTLINE_OPERATING_HOURS", "operating_hours", _schedule),
    Variable("HOTLINE_TIMEZONE", "timezone", _time_zone),
    Variable("HOTLINE_VOICE_NUMBER", "voice_number", _checked(reach.check_voice_number)),
    Variable("HOTLINE_WEB_ADDRESS", "web_address", _checked(reach.check_web_address)),
    # PostgreSQL with two roles; checked together with HOTLINE_DATABASE_URL (_database_roles).
    Variable("HOTLINE_MIGRATE_DATABASE_URL", "migrate_database_url", _text),
    Variable("HOTLINE_DATABASE_APP_ROLE", "database_app_role", _text),
    # Operations.
    Variable("HOTLINE_BROKER_PAUSE_SECONDS", "broker_pause_seconds", _positive),
    Variable("HOTLINE_METRICS_TOKEN", "metrics_token", _metrics_token),
    Variable("PROMETHEUS_MULTIPROC_DIR", "metrics_multiprocess_dir", _text),
    Variable("HOTLINE_LOG_FORMAT", "log_format", _log_format),
)


def _read_mode(env: Mapping[str, str]) -> Mode:
    raw_mode = env.get("HOTLINE_ENV", Mode.PRODUCTION.value).strip().lower()
    try:
        return Mode(raw_mode)
    except ValueError:
        choices = ", ".join(m.value for m in Mode)
        raise SettingsError(f"HOTLINE_ENV must be one of: {choices}") from None


def _missing(values: Mapping[str, Any], refused: set[str], attribute: str) -> bool:
    """Not set (or set to a list of nothing); a malformed value is reported as such instead."""
    return not values.get(attribute) and attribute not in refused


def _missing_in_production(
    values: Mapping[str, Any], refused: set[str], given: set[str]
) -> list[str]:
    """Production invents nothing: the database, the broker, the secrets, Twilio's credentials
    and a sender are given; SQLite only when explicitly allowed (one process, no broker)."""
    problems = _production_stores(values, given)
    problems += [
        problem
        for attribute, problem in (
            ("secret_key", "HOTLINE_SECRET_KEY is required"),
            ("data_keys", "HOTLINE_DATA_KEYS is required (comma-separated Fernet keys)"),
            ("hash_key", "HOTLINE_HASH_KEY is required (a Fernet-style key that never changes)"),
            ("twilio_account_sid", "TWILIO_ACCOUNT_SID is required"),
            ("twilio_auth_token", "TWILIO_AUTH_TOKEN is required"),
        )
        if _missing(values, refused, attribute)
    ]
    if "twilio_from" not in values and "twilio_messaging_service_sid" not in values:
        problems.append("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required")
    return problems


def _production_stores(values: Mapping[str, Any], given: set[str]) -> list[str]:
    """The demo's SQLite file is never production's: each web worker would get its own queue,
    timers and live counters, and the demo's accounts would sign in."""
    from sqlalchemy.engine import make_url  # parsing only: no driver, no connection

    if "database_url" not in given:
        problems = ["HOTLINE_DATABASE_URL is required (postgresql+psycopg://USER:PASSWORD@HOST/DB)"]
        sqlite = False
    else:
        try:
            sqlite = make_url(values["database_url"]).get_backend_name() == "sqlite"
        except Exception:  # its message may quote the URL, and the URL a password
            return ["HOTLINE_DATABASE_URL is not a database URL"]
        problems = []
        if sqlite and not values.get("allow_sqlite"):
            problems.append(
                "HOTLINE_DATABASE_URL names SQLite, which production refuses (use PostgreSQL, "
                "or HOTLINE_ALLOW_SQLITE=true for a one-process install)"
            )
    one_process = sqlite and values.get("allow_sqlite")
    if "redis_url" not in given and not one_process:
        problems.append("HOTLINE_REDIS_URL is required (redis://HOST:6379/0)")
    if "redis_url" in given and one_process:
        # Workers and beat would be processes of their own on the SQLite file, each taking
        # the one web process's place.
        problems.append(
            "HOTLINE_ALLOW_SQLITE is for a one-process install, without a broker: leave "
            "HOTLINE_REDIS_URL unset (or use PostgreSQL)"
        )
    return problems


def _twilio_problems(values: Mapping[str, Any]) -> list[str]:
    """Credentials come in pairs and need a sender, in every mode."""
    problems = []
    with_sid, with_token = "twilio_account_sid" in values, "twilio_auth_token" in values
    if with_sid != with_token:
        problems.append("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN go together")
    if with_sid and "twilio_from" not in values and "twilio_messaging_service_sid" not in values:
        problems.append("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required with Twilio")
    return problems


def _invent_secrets(values: dict[str, Any], refused: set[str], instance: Path) -> None:
    """The demo's and the tests' stand-ins for secrets not given, kept in the instance folder."""
    if _missing(values, refused, "secret_key"):
        values["secret_key"] = _demo_secret(instance, "secret-key")
    if _missing(values, refused, "data_keys"):
        values["data_keys"] = (_demo_secret(instance, "data-key"),)
    if _missing(values, refused, "twilio_auth_token"):
        # The demo and tests sign and check webhooks with a local token, like Twilio would.
        values["twilio_auth_token"] = _demo_secret(instance, "twilio-auth-token")


def _database_roles(values: dict[str, Any]) -> list[str]:
    """Check the owner's URL for migrations and the app's role to grant, deriving the role from
    HOTLINE_DATABASE_URL's user when only the owner's URL is given. Problems name the variable,
    never its value (a URL may hold a password)."""
    from sqlalchemy.engine import make_url  # parsing only: no driver, no connection

    problems: list[str] = []

    def parse(name: str, url: str) -> Any:
        try:
            return make_url(url)
        except Exception:
            problems.append(f"{name} is not a database URL")
            return None

    migrate_url = values.get("migrate_database_url")
    app_role = values.get("database_app_role")
    if migrate_url is None and app_role is None:
        return problems
    app = parse("HOTLINE_DATABASE_URL", values["database_url"])
    if app is None:
        return problems
    if app.get_backend_name() != "postgresql":
        variable = "HOTLINE_MIGRATE_DATABASE_URL" if migrate_url else "HOTLINE_DATABASE_APP_ROLE"
        problems.append(f"{variable} needs HOTLINE_DATABASE_URL on PostgreSQL (no roles in SQLite)")
        return problems
    if migrate_url is not None:
        owner = parse("HOTLINE_MIGRATE_DATABASE_URL", migrate_url)
        if owner is None:
            return problems
        if owner.get_backend_name() != "postgresql" or (
            owner.host,
            owner.port,
            owner.database,
        ) != (app.host, app.port, app.database):
            problems.append(
                "HOTLINE_MIGRATE_DATABASE_URL and HOTLINE_DATABASE_URL must name the same "
                "PostgreSQL database (host, port and name)"
            )
            return problems
        if app_role is None:
            app_role = app.username
            if not app_role:
                problems.append(
                    "HOTLINE_DATABASE_URL must name its user when HOTLINE_MIGRATE_DATABASE_URL "
                    "is set (or set HOTLINE_DATABASE_APP_ROLE)"
                )
                return problems
    assert app_role is not None
    if not (app_role.isprintable() and len(app_role.encode()) <= 63):
        problems.append("HOTLINE_DATABASE_APP_ROLE must be a role name of at most 63 bytes")
        return problems
    values["database_app_role"] = app_role
    return problems


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


def _demo_secret(instance: Path, name: str) -> str:
    """A secret kept in the instance folder, so demo data stays readable across restarts."""
    path = instance / f"{name}.secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    instance.mkdir(parents=True, exist_ok=True)
    secret = base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of the demo got there first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret
