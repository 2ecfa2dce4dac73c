"""Configuration: the only module that reads the process environment.

Everything else receives a :class:`Settings`. Reading happens in :meth:`Settings.from_env`, which
validates all of it at once so a misconfigured deployment fails at start-up with one clear
message, not at the first text that needs the missing piece.
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
from typing import Any

from hotline.domain import hours, reach
from hotline.domain.segments import count_segments

MAX_ORG_NAME = 40  # GSM-7 septets: every text holding it fits in two segments
MAX_TRUSTED_PROXIES = 5  # more hops than this in front of one app is a misconfiguration


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
    # Longer inbound texts are kept cut here, with a marker (hotline.domain.inbound.keep_body).
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
    # PostgreSQL with two roles: `hotline db upgrade` connects with this URL (the owner of the
    # tables) instead of `database_url`, and grants `database_app_role` what the app needs.
    migrate_database_url: str | None = field(default=None, repr=False)
    database_app_role: str | None = None

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
            raw_mode = env.get("HOTLINE_ENV", Mode.PRODUCTION.value).strip().lower()
            try:
                mode = Mode(raw_mode)
            except ValueError:
                choices = ", ".join(m.value for m in Mode)
                raise SettingsError(f"HOTLINE_ENV must be one of: {choices}") from None
        instance = instance_path or Path.cwd() / "instance"
        problems: list[str] = []

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        database_url = get("HOTLINE_DATABASE_URL") or f"sqlite:///{instance / 'hotline.sqlite3'}"
        secret_key = get("HOTLINE_SECRET_KEY")
        if secret_key is None:
            if mode.lenient:
                secret_key = _demo_secret(instance, "secret-key")
            else:
                problems.append("HOTLINE_SECRET_KEY is required")
        raw_keys = get("HOTLINE_DATA_KEYS") or ""
        # A value of only commas and spaces holds no key: treat it as missing, not as none needed.
        data_keys = tuple(k.strip() for k in raw_keys.split(",") if k.strip())
        if not data_keys:
            if mode.lenient:
                data_keys = (_demo_secret(instance, "data-key"),)
            else:
                problems.append("HOTLINE_DATA_KEYS is required (comma-separated Fernet keys)")
        else:
            for index, key in enumerate(data_keys):
                if not _is_fernet_key(key):
                    problems.append(
                        f"HOTLINE_DATA_KEYS entry {index + 1} is not 32 bytes of URL-safe base64"
                    )
        hash_key = get("HOTLINE_HASH_KEY")
        if hash_key is None and not mode.lenient:
            # Opt-outs and returning texters are found by this hash: it must outlive any data key.
            problems.append("HOTLINE_HASH_KEY is required (a Fernet-style key that never changes)")
        if hash_key is not None and not _is_fernet_key(hash_key):
            problems.append("HOTLINE_HASH_KEY is not 32 bytes of URL-safe base64")

        account_sid = get("TWILIO_ACCOUNT_SID")
        auth_token = get("TWILIO_AUTH_TOKEN")
        twilio_from = get("TWILIO_FROM")
        service_sid = get("TWILIO_MESSAGING_SERVICE_SID")
        if not mode.lenient:
            if account_sid is None:
                problems.append("TWILIO_ACCOUNT_SID is required")
            if auth_token is None:
                problems.append("TWILIO_AUTH_TOKEN is required")
            if twilio_from is None and service_sid is None:
                problems.append("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required")
        if (account_sid is None) != (auth_token is None):
            problems.append("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN go together")
        if account_sid is not None and twilio_from is None and service_sid is None:
            problems.append("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required with Twilio")
        if auth_token is None and mode.lenient:
            # The demo and tests sign and check webhooks with a local token, like Twilio would.
            auth_token = _demo_secret(instance, "twilio-auth-token")

        public_url = get("HOTLINE_PUBLIC_URL")
        if public_url is not None and not public_url.startswith(("http://", "https://")):
            problems.append("HOTLINE_PUBLIC_URL must start with http:// or https://")
        api_base = get("TWILIO_API_BASE")
        if api_base is not None and not api_base.startswith(("http://", "https://")):
            problems.append("TWILIO_API_BASE must start with http:// or https://")

        tuned: dict[str, Any] = {}
        for name, attribute in _NUMBER_SETTINGS.items():
            raw = get(name)
            if raw is None:
                continue
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):  # float() also takes "nan" and "inf"
                problems.append(f"{name} must be a number")
                continue
            if value <= 0:
                problems.append(f"{name} must be greater than zero")
                continue
            tuned[attribute] = value

        for name, attribute in _COUNT_SETTINGS.items():
            raw = get(name)
            if raw is None:
                continue
            if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 1000):
                problems.append(f"{name} must be a whole number from 1 to 1000")
                continue
            tuned[attribute] = int(raw)
        per_advocate = get("HOTLINE_REVIEW_PER_ADVOCATE")
        if per_advocate is not None:
            # Zero is allowed here: no minimum, a plain random sample.
            if per_advocate.isascii() and per_advocate.isdigit() and int(per_advocate) <= 100:
                tuned["review_per_advocate"] = int(per_advocate)
            else:
                problems.append("HOTLINE_REVIEW_PER_ADVOCATE must be a whole number from 0 to 100")
        proxies = get("HOTLINE_TRUSTED_PROXIES")
        if proxies is not None:
            # Zero is allowed (and the default): trust no proxy's word about the client.
            if proxies.isascii() and proxies.isdigit() and int(proxies) <= MAX_TRUSTED_PROXIES:
                tuned["trusted_proxies"] = int(proxies)
            else:
                most = MAX_TRUSTED_PROXIES
                problems.append(f"HOTLINE_TRUSTED_PROXIES must be a whole number from 0 to {most}")
        for name, attribute in _FLAG_SETTINGS.items():
            raw = get(name)
            if raw is None:
                continue
            if raw.lower() in _TRUE | _FALSE:
                tuned[attribute] = raw.lower() in _TRUE
            else:
                problems.append(f"{name} must be true or false")
        for name, attribute in (
            ("HOTLINE_ORG_NAME", "org_name"),
            ("HOTLINE_ORG_NAME_ES", "org_name_es"),
        ):
            org_name = get(name)
            if org_name is None:
                continue
            count = count_segments(org_name)
            if count.encoding != "GSM-7":
                problems.append(
                    f"{name} must be plain GSM-7 text (no á í ó ú, curly quotes or emoji: "
                    "one would halve what fits in a text)"
                )
            elif count.units > MAX_ORG_NAME:
                problems.append(
                    f"{name} must be at most {MAX_ORG_NAME} characters (texts fit in 2 SMS)"
                )
            tuned[attribute] = org_name
        lexicon_dir = get("HOTLINE_LEXICON_DIR")
        if lexicon_dir is not None:
            for language in ("en", "es"):
                if not (Path(lexicon_dir) / f"lexicon_{language}.toml").is_file():
                    problems.append(f"HOTLINE_LEXICON_DIR has no lexicon_{language}.toml")
            tuned["lexicon_dir"] = lexicon_dir
        safe_word = get("HOTLINE_SAFE_WORD")
        if safe_word is not None:
            if not (safe_word.isascii() and safe_word.isalpha() and 3 <= len(safe_word) <= 12):
                problems.append("HOTLINE_SAFE_WORD must be one word of 3 to 12 letters A-Z")
            tuned["safe_word"] = safe_word.upper()

        _read_hours(get, tuned, problems)
        _read_database_roles(get, database_url, tuned, problems)

        if problems:
            raise SettingsError(
                "hotline cannot start: " + "; ".join(problems) + f" (HOTLINE_ENV={mode.value})"
            )
        assert secret_key is not None
        return cls(
            mode=mode,
            database_url=database_url,
            secret_key=secret_key,
            data_keys=data_keys,
            hash_key=hash_key,
            redis_url=get("HOTLINE_REDIS_URL"),
            public_url=public_url.rstrip("/") if public_url else None,
            twilio_account_sid=account_sid,
            twilio_auth_token=auth_token,
            twilio_from=twilio_from,
            twilio_messaging_service_sid=service_sid,
            twilio_api_base=api_base.rstrip("/") if api_base else None,
            **tuned,
        )


# Tuning knobs an operator may set; each must be a positive number.
_NUMBER_SETTINGS = {
    "HOTLINE_SWEEP_INTERVAL_SECONDS": "sweep_interval_seconds",
    "HOTLINE_SWEEP_GRACE_SECONDS": "sweep_grace_seconds",
    "HOTLINE_SEND_BACKOFF_SECONDS": "send_backoff_base_seconds",
    "TWILIO_TIMEOUT_SECONDS": "twilio_timeout_seconds",
    "HOTLINE_TRIAGE_TIMEOUT_MINUTES": "triage_timeout_minutes",
    "HOTLINE_WAIT_UPDATE_MINUTES": "wait_update_minutes",
    "HOTLINE_CHECK_IN_AFTER_MINUTES": "check_in_after_minutes",
    "HOTLINE_CHECK_IN_TIMEOUT_MINUTES": "check_in_timeout_minutes",
    "HOTLINE_SURVEY_TIMEOUT_MINUTES": "survey_timeout_minutes",
    "HOTLINE_TIMER_TICK_SECONDS": "timer_tick_seconds",
    "HOTLINE_EMERGENCY_GUIDANCE_MINUTES": "emergency_guidance_minutes",
    "HOTLINE_ACK_MINUTES": "ack_minutes",
    "HOTLINE_KEEP_PLACE_MINUTES": "keep_place_minutes",
    "HOTLINE_PRESENCE_GRACE_MINUTES": "presence_grace_minutes",
    "HOTLINE_SESSION_IDLE_MINUTES": "session_idle_minutes",
    "HOTLINE_SESSION_IDLE_WARNING_MINUTES": "session_idle_warning_minutes",
    "HOTLINE_SESSION_MAX_HOURS": "session_max_hours",
    "HOTLINE_SIGN_IN_LOCKOUT_MINUTES": "sign_in_lockout_minutes",
    "HOTLINE_RETENTION_DAYS": "retention_days",
    "HOTLINE_STAFF_RECORD_DAYS": "staff_record_days",
}
# Whole numbers an operator may set; each must be at least 1.
_COUNT_SETTINGS = {
    "HOTLINE_CAPACITY": "capacity",
    "HOTLINE_SIGN_IN_MAX_FAILURES": "sign_in_max_failures",
    "HOTLINE_SIGN_IN_PER_CLIENT_PER_MINUTE": "sign_in_per_client_per_minute",
    "HOTLINE_REVIEW_SAMPLE_SIZE": "review_sample_size",
    "HOTLINE_UNPROMPTED_PER_HOUR": "unprompted_per_hour",
}
_FLAG_SETTINGS = {
    "HOTLINE_DISCREET_MODE": "discreet_mode",
    "HOTLINE_SURVEY": "survey_enabled",
    "HOTLINE_REQUIRE_2FA_FOR_SUPERVISORS": "require_2fa_for_supervisors",
}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _read_hours(
    get: Callable[[str], str | None], tuned: dict[str, Any], problems: list[str]
) -> None:
    """Operating hours, time zone, voice number and web address; problems name the variable,
    never its value."""
    schedule = get("HOTLINE_OPERATING_HOURS")
    if schedule is not None:
        try:
            tuned["operating_hours"] = hours.canonical(hours.parse(schedule)) or None
        except hours.ScheduleError:
            problems.append(
                "HOTLINE_OPERATING_HOURS must be a weekly schedule like "
                "'mon-fri 09:00-17:00; sat 10:00-14:00'"
            )
    zone = get("HOTLINE_TIMEZONE")
    if zone is not None:
        try:
            hours.zone(zone)
            tuned["timezone"] = zone
        except hours.ScheduleError:
            problems.append("HOTLINE_TIMEZONE must be a time zone name like America/New_York")
    for name, attribute, check in (
        ("HOTLINE_VOICE_NUMBER", "voice_number", reach.check_voice_number),
        ("HOTLINE_WEB_ADDRESS", "web_address", reach.check_web_address),
    ):
        raw = get(name)
        if raw is None:
            continue
        try:
            tuned[attribute] = check(raw)
        except ValueError as problem:
            problems.append(f"{name} {problem}")


def _read_database_roles(
    get: Callable[[str], str | None],
    database_url: str,
    tuned: dict[str, Any],
    problems: list[str],
) -> None:
    """The owner's URL for migrations and the app's role to grant; problems name the variable,
    never its value (a URL may hold a password)."""
    from sqlalchemy.engine import make_url  # parsing only: no driver, no connection

    def parse(name: str, url: str) -> Any:
        try:
            return make_url(url)
        except Exception:
            problems.append(f"{name} is not a database URL")
            return None

    migrate_url = get("HOTLINE_MIGRATE_DATABASE_URL")
    app_role = get("HOTLINE_DATABASE_APP_ROLE")
    if migrate_url is None and app_role is None:
        return
    app = parse("HOTLINE_DATABASE_URL", database_url)
    if app is None:
        return
    if app.get_backend_name() != "postgresql":
        variable = "HOTLINE_MIGRATE_DATABASE_URL" if migrate_url else "HOTLINE_DATABASE_APP_ROLE"
        problems.append(f"{variable} needs HOTLINE_DATABASE_URL on PostgreSQL (no roles in SQLite)")
        return
    if migrate_url is not None:
        owner = parse("HOTLINE_MIGRATE_DATABASE_URL", migrate_url)
        if owner is None:
            return
        if owner.get_backend_name() != "postgresql" or (
            owner.host,
            owner.port,
            owner.database,
        ) != (app.host, app.port, app.database):
            problems.append(
                "HOTLINE_MIGRATE_DATABASE_URL and HOTLINE_DATABASE_URL must name the same "
                "PostgreSQL database (host, port and name)"
            )
            return
        tuned["migrate_database_url"] = migrate_url
        if app_role is None:
            app_role = app.username
            if not app_role:
                problems.append(
                    "HOTLINE_DATABASE_URL must name its user when HOTLINE_MIGRATE_DATABASE_URL "
                    "is set (or set HOTLINE_DATABASE_APP_ROLE)"
                )
                return
    assert app_role is not None
    if not (app_role.isprintable() and len(app_role.encode()) <= 63):
        problems.append("HOTLINE_DATABASE_APP_ROLE must be a role name of at most 63 bytes")
        return
    tuned["database_app_role"] = app_role


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
