"""What risk reasons suggest for the case record (issue 20): the catalogue and the lexicons
cannot drift apart, and reasons are read as the risk scoring writes them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hotline.catalogue import RISK_LANGUAGES, lexicon
from hotline.catalogue.case_suggestions import FILE, by_language, table
from hotline.domain.case_lists import SEED, CaseList
from hotline.domain.case_suggestions import phrases_of, suggest
from hotline.domain.risk import assess

SEEDED = {f"{case_list}:{code}" for case_list, entries in SEED.items() for code, _ in entries}


def shipped_lexicon(language: str) -> dict[str, object]:
    path = Path(FILE).with_name(f"lexicon_{language}.toml")
    with path.open("rb") as handle:
        return tomllib.load(handle)


def test_every_language_of_the_catalogue_is_a_lexicon_and_english_and_spanish_are_there() -> None:
    assert set(by_language()) <= set(RISK_LANGUAGES)
    assert {"en", "es"} <= set(by_language())
    assert len(by_language()["en"]) >= 200 and len(by_language()["es"]) >= 120


@pytest.mark.parametrize("language", sorted(by_language()))
def test_every_phrase_is_its_lexicons_and_every_code_is_seeded(language: str) -> None:
    shipped = shipped_lexicon(language)
    weights = shipped["weights"]
    emergency = shipped["emergency"]
    assert isinstance(weights, dict) and isinstance(emergency, list)
    phrases = set(weights) | set(emergency)
    for phrase, entries in by_language()[language].items():
        assert phrase in phrases, f"{language}: {phrase!r} is no phrase of the lexicon"
        assert entries, phrase
        for entry in entries:
            assert entry in SEEDED, f"{language}: {phrase!r} suggests {entry!r}, not seeded"


def test_the_issues_examples_are_suggested() -> None:
    expected = {
        "pimp": "kind:sex_trafficking",
        "escort": "type:escort_services",
        "massage": "type:illicit_massage",
        "passport": "control:document_confiscation",
        "took ... papers": "control:document_confiscation",
        "owe": "control:debt",
        "debt": "control:debt",
        "not paid": "control:withholding_pay",
        "hurt ... family": "control:threats_to_family",
        "isolated": "control:isolation",
        "locked in": "control:confinement",
        "hit me": "control:physical_violence",
        "pasaporte": "control:document_confiscation",
        "deuda": "control:debt",
        "no me pagan": "control:withholding_pay",
        "encerrada": "control:confinement",
        "me pega": "control:physical_violence",
    }
    for phrase, entry in expected.items():
        assert entry in table()[phrase], phrase


@pytest.mark.parametrize(
    ("reason", "phrases"),
    [
        ("took ... papers (+40)", ["took ... papers"]),
        ("emergency: locked in a room", ["locked in a room"]),
        ("emergency: locked me in + hit me", ["locked me in", "hit me"]),
        ("Me Quito ... Pasaporte (+40)", ["me quito ... pasaporte"]),
        ("only a call for help (+30)", ["only a call for help"]),
    ],
)
def test_a_reason_names_its_phrases(reason: str, phrases: list[str]) -> None:
    assert phrases_of(reason) == phrases


def test_reasons_as_the_risk_scoring_writes_them_suggest_their_entries() -> None:
    lexicons = [lexicon(language) for language in ("en", "es")]
    reasons = assess(
        ["my pimp took my passport, I owe him", "massage place, nadie me paga, me pega"],
        lexicons,
    ).reasons
    found = suggest(reasons, table())
    assert found.codes[CaseList.KIND] == ["sex_trafficking"]
    assert {"document_confiscation", "debt", "physical_violence"} <= set(
        found.codes[CaseList.CONTROL]
    )
    assert found.codes[CaseList.TYPE] == ["illicit_massage"]
    for key, why in found.because.items():
        assert why and all(reason in reasons for reason in why), key


def test_a_case_has_one_kind_the_first_suggested() -> None:
    found = suggest(["pimp (+60)", "other (+1)"], {"pimp": ("kind:sex_trafficking",), "other": (
        "kind:labor_trafficking", "control:debt")})  # fmt: skip
    assert found.codes[CaseList.KIND] == ["sex_trafficking"]
    assert found.codes[CaseList.CONTROL] == ["debt"]
    assert "kind:labor_trafficking" not in found.because


def test_nothing_is_suggested_without_reasons_or_for_unknown_phrases() -> None:
    assert suggest([], table()).codes == {}
    assert suggest(["a phrase nobody wrote (+10)", "emergency: 911"], table()).codes == {}


def test_the_docs_list_every_seeded_entry_of_every_list() -> None:
    docs = (Path(FILE).parents[2] / "docs" / "case_record.md").read_text(encoding="utf-8")
    for case_list, entries in SEED.items():
        for code, label in entries:
            assert f"| `{code}` | {label} |" in docs, f"{case_list}: {code}"
