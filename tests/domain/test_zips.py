"""The ZIP prefix table against every ZIP the ``zipcodes`` package knows."""

from __future__ import annotations

import zipcodes

from hotline.domain.places import ENGLISH_NAMES
from hotline.domain.zips import state_of_zip


def test_every_real_zip_is_its_state() -> None:
    wrong = []
    for place in zipcodes.filter_by():
        expected = place["state"] if place["state"] in ENGLISH_NAMES else None
        if state_of_zip(place["zip_code"]) != expected:
            wrong.append((place["zip_code"], place["state"], state_of_zip(place["zip_code"])))
    assert wrong == []


def test_zip_plus_four_and_spaces() -> None:
    assert state_of_zip(" 77063-1234 ") == "TX"
    assert state_of_zip("77063 1234") is None
    assert state_of_zip("7706") is None
