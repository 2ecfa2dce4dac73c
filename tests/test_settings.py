"""Settings.from_env: one clear refusal for a bad production set-up, never a secret in it."""

from __future__ import annotations

import base64
import dataclasses
import stat
import traceback
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from hotline.infra.vault import Vault
from hotline.settings import VARIABLES, Mode, Settings, SettingsError

KEY_NEW = Fernet.generate_key().decode()
KEY_OLD = Fernet.generate_key().decode()
HASH_KEY = Fernet.generate_key().decode()
SECRET_KEY = "session-signing-secret-9f8e7d6c5b4a"
ACCOUNT_SID = "AC" + "1234567890abcdef" * 2
AUTH_TOKEN = "auth-token-0a1b2c3d4e5f6a7b8c9d"
SECRETS = [KEY_NEW, KEY_OLD, HASH_KEY, SECRET_KEY, AUTH_TOKEN]

PRODUCTION = {
    "HOTLINE_ENV": "production",
    "HOTLINE_DATABASE_URL": "postgresql+psycopg://hotline@db/hotline",
    "HOTLINE_REDIS_URL": "redis://redis:6379/0",
    "HOTLINE_SECRET_KEY": SECRET_KEY,
    "HOTLINE_DATA_KEYS": f"{KEY_NEW}, {KEY_OLD}",
    "HOTLINE_HASH_KEY": HASH_KEY,
    "HOTLINE_PUBLIC_URL": "https://hotline.example.org/",
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_FROM": "233733",
}


def refusal(environ: dict[str, str], instance: Path) -> str:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env(environ, instance_path=instance)
    everything = "".join(traceback.format_exception(excinfo.value))
    for secret in SECRETS:
        assert secret not in everything
    return str(excinfo.value)


def production_without(*names: str, **changes: str) -> dict[str, str]:
    environ = {k: v for k, v in PRODUCTION.items() if k not in names}
    environ.update(changes)
    return environ


def test_a_full_production_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(PRODUCTION, instance_path=tmp_path)
    assert settings.mode is Mode.PRODUCTION
    assert settings.database_url == "postgresql+psycopg://hotline@db/hotline"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.secret_key == SECRET_KEY
    assert settings.data_keys == (KEY_NEW, KEY_OLD)
    assert settings.hash_key == HASH_KEY
    assert settings.public_url == "https://hotline.example.org"
    assert settings.twilio_account_sid == ACCOUNT_SID
    assert settings.twilio_auth_token == AUTH_TOKEN
    assert settings.twilio_from == "233733"
    assert settings.twilio_messaging_service_sid is None
    assert settings.uses_twilio
    assert not settings.embedded
    assert list(tmp_path.iterdir()) == []  # production invents nothing
    Vault(settings.data_keys, settings.hash_key)  # the keys it accepted are usable


def test_each_variable_sets_a_field_of_its_own() -> None:
    fields = {field.name for field in dataclasses.fields(Settings)}
    assert len({variable.name for variable in VARIABLES}) == len(VARIABLES)
    assert len({variable.field for variable in VARIABLES}) == len(VARIABLES)
    assert {variable.field for variable in VARIABLES} <= fields


def test_an_unset_variable_leaves_its_fields_default(tmp_path: Path) -> None:
    settings = Settings.from_env(PRODUCTION, instance_path=tmp_path)
    defaults = {
        field.name: field.default
        for field in dataclasses.fields(Settings)
        if field.default is not dataclasses.MISSING
    }
    unset = [v.field for v in VARIABLES if v.name not in PRODUCTION and v.field in defaults]
    assert len(unset) > 40
    for name in unset:
        assert getattr(settings, name) == defaults[name], name


def test_production_is_the_default_mode(tmp_path: Path) -> None:
    settings = Settings.from_env(production_without("HOTLINE_ENV"), instance_path=tmp_path)
    assert settings.mode is Mode.PRODUCTION
    with pytest.raises(SettingsError):
        Settings.from_env({}, instance_path=tmp_path)


def test_a_messaging_service_instead_of_a_from_number(tmp_path: Path) -> None:
    environ = production_without("TWILIO_FROM", TWILIO_MESSAGING_SERVICE_SID="MG" + "0" * 32)
    settings = Settings.from_env(environ, instance_path=tmp_path)
    assert settings.twilio_from is None
    assert settings.twilio_messaging_service_sid == "MG" + "0" * 32


def test_production_with_nothing_names_every_missing_variable(tmp_path: Path) -> None:
    message = refusal({"HOTLINE_ENV": "production"}, tmp_path)
    for name in (
        "HOTLINE_SECRET_KEY",
        "HOTLINE_DATA_KEYS",
        "HOTLINE_HASH_KEY",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID",
    ):
        assert name in message
    assert message.startswith("hotline cannot start: ")
    assert message.endswith("(HOTLINE_ENV=production)")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name",
    [
        "HOTLINE_SECRET_KEY",
        "HOTLINE_DATA_KEYS",
        "HOTLINE_HASH_KEY",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
    ],
)
def test_production_refuses_each_missing_secret(tmp_path: Path, name: str) -> None:
    message = refusal(production_without(name), tmp_path)
    assert f"{name} is required" in message


@pytest.mark.parametrize("name", ["HOTLINE_SECRET_KEY", "HOTLINE_DATA_KEYS", "TWILIO_AUTH_TOKEN"])
def test_blank_counts_as_missing(tmp_path: Path, name: str) -> None:
    message = refusal(production_without(name, **{name: "   "}), tmp_path)
    assert f"{name} is required" in message


@pytest.mark.parametrize("value", [",", " , , ", ",,,"])
def test_data_keys_of_only_commas_are_missing_keys(tmp_path: Path, value: str) -> None:
    message = refusal(production_without(HOTLINE_DATA_KEYS=value), tmp_path)
    assert "HOTLINE_DATA_KEYS is required" in message


def test_production_needs_a_sender(tmp_path: Path) -> None:
    message = refusal(production_without("TWILIO_FROM"), tmp_path)
    assert "TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required" in message


@pytest.mark.parametrize(
    ("keys", "entry"),
    [
        ("not-a-key", 1),
        (f"{KEY_NEW},short", 2),
        (f"{KEY_NEW}, {KEY_OLD}, {KEY_NEW[:-4]}", 3),
        (f"{KEY_NEW}, clé-{KEY_OLD}", 2),  # not ASCII
        (f"{KEY_NEW},{base64.urlsafe_b64encode(bytes(range(35))).decode()}", 2),  # 35 bytes
        (f"{KEY_NEW},{base64.urlsafe_b64encode(bytes(range(16))).decode()}", 2),  # 16 bytes
    ],
    # Ids without the keys, which are new in every process (pytest-xdist's workers must
    # collect the same names).
    ids=["not-a-key", "short", "truncated", "not-ascii", "35-bytes", "16-bytes"],
)
def test_a_malformed_data_key_is_named_by_position_not_value(
    tmp_path: Path, keys: str, entry: int
) -> None:
    message = refusal(production_without(HOTLINE_DATA_KEYS=keys), tmp_path)
    assert f"HOTLINE_DATA_KEYS entry {entry} is not 32 bytes of URL-safe base64" in message
    for part in keys.split(","):
        assert part.strip() not in message


def test_a_malformed_hash_key(tmp_path: Path) -> None:
    message = refusal(production_without(HOTLINE_HASH_KEY="hash-key-too-short"), tmp_path)
    assert "HOTLINE_HASH_KEY is not 32 bytes of URL-safe base64" in message
    assert "hash-key-too-short" not in message


@pytest.mark.parametrize("value", ["staging", "prod", "", "1"])
def test_an_invalid_mode(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({**PRODUCTION, "HOTLINE_ENV": value}, instance_path=tmp_path)
    assert str(excinfo.value) == "HOTLINE_ENV must be one of: production, development, demo, test"
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__suppress_context__


def test_mode_is_read_case_insensitively(tmp_path: Path) -> None:
    settings = Settings.from_env({"HOTLINE_ENV": " Demo "}, instance_path=tmp_path)
    assert settings.mode is Mode.DEMO


@pytest.mark.parametrize("mode", ["test", "demo", "production"])
def test_an_account_sid_without_a_token(tmp_path: Path, mode: str) -> None:
    environ = {**production_without("TWILIO_AUTH_TOKEN"), "HOTLINE_ENV": mode}
    message = refusal(environ, tmp_path)
    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN go together" in message
    assert ACCOUNT_SID not in message


def test_a_token_without_an_account_sid(tmp_path: Path) -> None:
    message = refusal(production_without("TWILIO_ACCOUNT_SID"), tmp_path)
    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN go together" in message


def test_twilio_in_demo_mode_still_needs_a_sender(tmp_path: Path) -> None:
    environ = {"HOTLINE_ENV": "demo", "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": "x"}
    message = refusal(environ, tmp_path)
    assert "TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required with Twilio" in message


@pytest.mark.parametrize("name", ["HOTLINE_PUBLIC_URL", "TWILIO_API_BASE"])
def test_urls_must_be_http(tmp_path: Path, name: str) -> None:
    message = refusal(production_without(**{name: "hotline.example.org"}), tmp_path)
    assert f"{name} must start with http:// or https://" in message


def test_trailing_slashes_are_stripped(tmp_path: Path) -> None:
    environ = production_without(
        HOTLINE_PUBLIC_URL="https://hotline.example.org/twilio/",
        TWILIO_API_BASE="http://127.0.0.1:8099/",
    )
    settings = Settings.from_env(environ, instance_path=tmp_path)
    assert settings.public_url == "https://hotline.example.org/twilio"
    assert settings.twilio_api_base == "http://127.0.0.1:8099"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    environ = {
        "HOTLINE_ENV": "production",
        "HOTLINE_DATA_KEYS": "bad",
        "HOTLINE_PUBLIC_URL": "ftp://x",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    }
    message = refusal(environ, tmp_path)
    assert message.count(";") >= 4
    for fragment in (
        "HOTLINE_SECRET_KEY is required",
        "HOTLINE_DATA_KEYS entry 1",
        "TWILIO_ACCOUNT_SID is required",
        "go together",
        "HOTLINE_PUBLIC_URL must start with",
    ):
        assert fragment in message


@pytest.mark.parametrize("value", ["soon", "nan", "inf", "-inf", "NaN"])
def test_a_tuning_knob_must_be_a_finite_number(tmp_path: Path, value: str) -> None:
    message = refusal(production_without(HOTLINE_SWEEP_INTERVAL_SECONDS=value), tmp_path)
    assert "HOTLINE_SWEEP_INTERVAL_SECONDS must be a number" in message


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_tuning_knob_must_be_positive(tmp_path: Path, value: str) -> None:
    message = refusal(production_without(TWILIO_TIMEOUT_SECONDS=value), tmp_path)
    assert "TWILIO_TIMEOUT_SECONDS must be greater than zero" in message


def test_tuning_knobs_are_read(tmp_path: Path) -> None:
    environ = production_without(
        HOTLINE_SWEEP_INTERVAL_SECONDS="2.5",
        HOTLINE_SWEEP_GRACE_SECONDS="45",
        HOTLINE_SEND_BACKOFF_SECONDS="0.5",
        TWILIO_TIMEOUT_SECONDS="3",
    )
    settings = Settings.from_env(environ, instance_path=tmp_path)
    assert settings.sweep_interval_seconds == 2.5
    assert settings.sweep_grace_seconds == 45
    assert settings.send_backoff_base_seconds == 0.5
    assert settings.twilio_timeout_seconds == 3


# --- lenient modes -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["test", "demo", "development"])
def test_lenient_modes_invent_secrets_and_keep_them(tmp_path: Path, mode: str) -> None:
    first = Settings.from_env({"HOTLINE_ENV": mode}, instance_path=tmp_path)
    second = Settings.from_env({"HOTLINE_ENV": mode}, instance_path=tmp_path)
    assert first.mode is Mode(mode)
    assert first.secret_key and first.secret_key == second.secret_key
    assert len(first.data_keys) == 1 and first.data_keys == second.data_keys
    assert first.twilio_auth_token and first.twilio_auth_token == second.twilio_auth_token
    assert len({first.secret_key, first.data_keys[0], first.twilio_auth_token}) == 3
    for name in ("secret-key", "data-key", "twilio-auth-token"):
        path = tmp_path / f"{name}.secret"
        assert path.exists()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.database_url == f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
    assert not first.uses_twilio
    assert first.embedded


def test_an_invented_data_key_is_a_working_fernet_key(tmp_path: Path) -> None:
    settings = Settings.from_env({}, mode=Mode.TEST, instance_path=tmp_path)
    vault = Vault(settings.data_keys)
    assert vault.decrypt(vault.encrypt("hola")) == "hola"


def test_each_instance_folder_has_its_own_secrets(tmp_path: Path) -> None:
    one = Settings.from_env({}, mode=Mode.DEMO, instance_path=tmp_path / "one")
    two = Settings.from_env({}, mode=Mode.DEMO, instance_path=tmp_path / "two")
    assert one.secret_key != two.secret_key
    assert one.data_keys != two.data_keys


def test_given_secrets_win_over_invented_ones(tmp_path: Path) -> None:
    environ = {"HOTLINE_SECRET_KEY": SECRET_KEY, "HOTLINE_DATA_KEYS": KEY_NEW}
    settings = Settings.from_env(environ, mode=Mode.DEMO, instance_path=tmp_path)
    assert settings.secret_key == SECRET_KEY
    assert settings.data_keys == (KEY_NEW,)
    assert not (tmp_path / "secret-key.secret").exists()
    assert not (tmp_path / "data-key.secret").exists()


def test_an_explicit_mode_overrides_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"HOTLINE_ENV": "production"}, mode=Mode.TEST, instance_path=tmp_path
    )
    assert settings.mode is Mode.TEST


def test_lenient_modes_still_refuse_malformed_keys(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="HOTLINE_DATA_KEYS entry 1"):
        Settings.from_env({"HOTLINE_DATA_KEYS": "nope"}, mode=Mode.DEMO, instance_path=tmp_path)


def test_with_overrides_returns_a_changed_copy(tmp_path: Path) -> None:
    settings = Settings.from_env({}, mode=Mode.TEST, instance_path=tmp_path)
    changed = settings.with_overrides(max_body_chars=10)
    assert changed.max_body_chars == 10
    assert settings.max_body_chars == 10_000


def test_lexicon_dir_must_hold_both_lexicons(tmp_path: Path) -> None:
    (tmp_path / "lexicon_en.toml").write_text("emergency = []\n")
    environ = {"HOTLINE_LEXICON_DIR": str(tmp_path)}
    with pytest.raises(SettingsError, match=r"HOTLINE_LEXICON_DIR has no lexicon_es\.toml"):
        Settings.from_env(environ, mode=Mode.TEST, instance_path=tmp_path / "instance")
    (tmp_path / "lexicon_es.toml").write_text("emergency = []\n")
    settings = Settings.from_env(environ, mode=Mode.TEST, instance_path=tmp_path / "instance")
    assert settings.lexicon_dir == str(tmp_path)


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("HOTLINE_SAFE_WORD", "two words", "HOTLINE_SAFE_WORD must be one word"),
        ("HOTLINE_DISCREET_MODE", "maybe", "HOTLINE_DISCREET_MODE must be true or false"),
        ("HOTLINE_ORG_NAME", "x" * 41, "HOTLINE_ORG_NAME must be at most 40 characters"),
        ("HOTLINE_ORG_NAME_ES", "x" * 41, "HOTLINE_ORG_NAME_ES must be at most 40 characters"),
        # One letter GSM-7 lacks would put every text naming it in UCS-2, at half the length.
        ("HOTLINE_ORG_NAME_ES", "Línea de Ayuda", "HOTLINE_ORG_NAME_ES must be plain GSM-7"),
        ("HOTLINE_ORG_NAME", "Freedom \u201cNetwork\u201d", "HOTLINE_ORG_NAME must be plain GSM-7"),
        ("HOTLINE_TRIAGE_TIMEOUT_MINUTES", "-5", "must be greater than zero"),
    ],
)
def test_triage_settings_are_checked(tmp_path: Path, name: str, value: str, error: str) -> None:
    with pytest.raises(SettingsError, match=error):
        Settings.from_env({name: value}, mode=Mode.TEST, instance_path=tmp_path)


def test_triage_settings_are_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "HOTLINE_SAFE_WORD": "apple",
            "HOTLINE_DISCREET_MODE": "yes",
            "HOTLINE_ORG_NAME": "Freedom Network",
            "HOTLINE_ORG_NAME_ES": "Red Libertad",
            "HOTLINE_SURVEY": "off",
            "HOTLINE_WAIT_UPDATE_MINUTES": "5",
        },
        mode=Mode.TEST,
        instance_path=tmp_path,
    )
    assert settings.safe_word == "APPLE" and settings.discreet_mode
    assert settings.org_name == "Freedom Network" and not settings.survey_enabled
    assert settings.org_name_es == "Red Libertad"
    assert settings.wait_update_minutes == 5.0


def test_opening_hours_time_zone_and_ways_to_reach_us_are_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            **PRODUCTION,
            "HOTLINE_OPERATING_HOURS": "Mon-Fri 9:00-17:00; sat 10:00-14:00",
            "HOTLINE_TIMEZONE": "America/Chicago",
            "HOTLINE_VOICE_NUMBER": " 1-888-373-7888 ",
            "HOTLINE_WEB_ADDRESS": "https://example.org/help",
        },
        instance_path=tmp_path,
    )
    assert settings.operating_hours == "mon-fri 09:00-17:00; sat 10:00-14:00"
    assert settings.timezone == "America/Chicago"
    assert settings.voice_number == "1-888-373-7888"
    assert settings.web_address == "example.org/help"
    plain = Settings.from_env(PRODUCTION, instance_path=tmp_path)
    assert plain.operating_hours is None and plain.timezone == "America/New_York"
    assert plain.voice_number == plain.web_address == ""


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("HOTLINE_OPERATING_HOURS", "weekdays 9-5-secretish",
         "HOTLINE_OPERATING_HOURS must be a weekly schedule like "
         "'mon-fri 09:00-17:00; sat 10:00-14:00'"),
        ("HOTLINE_TIMEZONE", "Mars/Secretish",
         "HOTLINE_TIMEZONE must be a time zone name like America/New_York"),
        ("HOTLINE_VOICE_NUMBER", "call secretish",
         "HOTLINE_VOICE_NUMBER must be a phone number: digits, spaces, + - ( ) and dots, "
         "at most 20 characters"),
        ("HOTLINE_WEB_ADDRESS", "secretish web",
         "HOTLINE_WEB_ADDRESS must be a web address like example.org/help, at most 40 characters"),
    ],
)  # fmt: skip
def test_bad_hours_or_contacts_are_named_never_quoted(
    tmp_path: Path, name: str, value: str, problem: str
) -> None:
    message = refusal({**PRODUCTION, name: value}, tmp_path)
    assert problem in message
    assert "secretish" not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HOTLINE_TRUSTED_PROXIES", "-1"),
        ("HOTLINE_TRUSTED_PROXIES", "6"),
        ("HOTLINE_TRUSTED_PROXIES", "one"),
        ("HOTLINE_SIGN_IN_PER_CLIENT_PER_MINUTE", "0"),
        ("HOTLINE_SIGN_IN_PER_CLIENT_PER_MINUTE", "lots"),
    ],
)
def test_sign_in_limits_are_checked(tmp_path: Path, name: str, value: str) -> None:
    message = refusal(production_without(**{name: value}), tmp_path)
    assert name in message and f"={value}" not in message


def test_sign_in_limits_are_read_and_trust_no_proxy_by_default(tmp_path: Path) -> None:
    defaults = Settings.from_env(PRODUCTION, instance_path=tmp_path)
    assert (defaults.trusted_proxies, defaults.sign_in_per_client_per_minute) == (0, 20)
    settings = Settings.from_env(
        production_without(HOTLINE_TRUSTED_PROXIES="2", HOTLINE_SIGN_IN_PER_CLIENT_PER_MINUTE="40"),
        instance_path=tmp_path,
    )
    assert (settings.trusted_proxies, settings.sign_in_per_client_per_minute) == (2, 40)
