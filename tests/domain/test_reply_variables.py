"""Variables in quick replies: what is a variable, what is refused, how values are filled."""

from __future__ import annotations

import pytest

from hotline.domain.reply_variables import VARIABLES, UnknownVariable, check, fill, variables_in

VALUES = {"advocate_name": "Ann", "location": "Houston", "safe_word": "CLEAR"}


def test_every_variable_is_filled() -> None:
    template = "Hi, this is {advocate_name}. Services in {location}. Text {safe_word} to end."
    assert fill(template, VALUES) == "Hi, this is Ann. Services in Houston. Text CLEAR to end."


def test_a_template_without_variables_is_unchanged() -> None:
    assert fill("We are here for you.", VALUES) == "We are here for you."


def test_a_variable_used_twice_is_filled_twice() -> None:
    assert fill("{advocate_name} / {advocate_name}", VALUES) == "Ann / Ann"


def test_the_variables_named_in_order_of_first_use() -> None:
    assert variables_in("{location} {advocate_name} {location} {nope}") == [
        "location",
        "advocate_name",
        "nope",
    ]


@pytest.mark.parametrize(
    "template",
    [
        "Hi {advocat_name}",  # a typo
        "Hi {Advocate_Name}",  # case matters
        "Hi {advocate_name.__class__}",  # no attribute access, as str.format would allow
        "Hi {advocate_name!r}",
        "Hi {}",
        "Hi { location }",
    ],
)
def test_an_unknown_variable_is_refused_with_what_exists(template: str) -> None:
    with pytest.raises(UnknownVariable) as refused:
        fill(template, VALUES)
    message = str(refused.value)
    assert message.startswith("unknown variable {")
    assert all(f"{{{name}}}" in message for name in VARIABLES)
    with pytest.raises(UnknownVariable):
        check(template)


def test_the_refusal_names_each_unknown_variable() -> None:
    with pytest.raises(UnknownVariable) as refused:
        check("{one} {advocate_name} {two}")
    assert refused.value.names == ["one", "two"]
    assert str(refused.value).startswith("unknown variable {one}, {two}:")


@pytest.mark.parametrize("text", ["a { lone brace", "closing } only", "{{advocate_name}", "}{"])
def test_lone_braces_are_plain_text(text: str) -> None:
    check(text)  # no error
    if "{{" in text:
        assert fill(text, VALUES) == "{Ann"  # the inner pair is the variable
    else:
        assert fill(text, VALUES) == text


def test_a_value_holding_braces_is_not_read_as_a_variable() -> None:
    assert fill("in {location}", {**VALUES, "location": "{safe_word}"}) == "in {safe_word}"


def test_known_variables_pass_the_check() -> None:
    check(" ".join(f"{{{name}}}" for name in VARIABLES))
