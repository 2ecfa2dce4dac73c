"""Does a JSON value fit an answer type (:mod:`hotline.web.answers`)? Key for key, recursively.

A ``TypedDict`` fits an object with exactly its keys (a ``NotRequired`` one may be missing), each
value fitting its type; ``list[X]`` an array of X; ``dict[K, V]`` an object whose keys fit K;
unions, ``Literal``, ``StrEnum`` (one of its values), ``IsoTime``/``IsoDate`` (text that parses
as one), ``JsonValue`` (any JSON). Shared by the answer-shape tests.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from datetime import date, datetime
from enum import Enum
from typing import (
    Any,
    ForwardRef,
    Literal,
    NotRequired,
    Required,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

from hotline.services.answers import IsoDate, IsoTime, JsonValue

Bound = dict[Any, Any]  # a generic TypedDict's type variables, bound to its arguments


def mismatches(value: object, shape: object, seen: set[type] | None = None) -> list[str]:
    """Where ``value`` (JSON, as parsed) does not fit ``shape``, one line each; empty if it fits.

    ``seen`` collects every TypedDict that a part of ``value`` fitted. Raises ``TypeError`` on
    a type the answers should not use (``Any``, a class that is not a TypedDict, ...).
    """
    return _check(value, shape, "$", {}, seen if seen is not None else set())


def typed_dicts(shape: object) -> set[type]:
    """Every TypedDict a value of ``shape`` may hold, at any depth (``shape`` included)."""
    found: set[type] = set()
    _walk(shape, {}, found)
    return found


def _check(value: object, shape: object, where: str, bound: Bound, seen: set[type]) -> list[str]:
    if isinstance(shape, TypeVar):
        shape = bound[shape]
    if isinstance(shape, ForwardRef):  # JsonValue refers to itself: so it stays unresolved
        if shape.__forward_arg__ != "JsonValue":
            raise TypeError(f"{where}: unresolved type {shape.__forward_arg__}")
        return _any_json(value, where)
    if shape is IsoTime:
        return _text_parsing(value, where, _is_time, "an ISO 8601 time with its offset")
    if shape is IsoDate:
        return _text_parsing(value, where, _is_date, "an ISO 8601 date")
    if shape is None or shape is type(None):
        return [] if value is None else [f"{where}: {value!r} is not null"]
    if shape in (bool, int, str):
        return [] if type(value) is shape else [f"{where}: {value!r} is not {_name(shape)}"]
    if shape is float:
        fits = type(value) in (int, float)
        return [] if fits else [f"{where}: {value!r} is not a number"]
    if isinstance(shape, type) and issubclass(shape, Enum):
        values = [member.value for member in shape]
        return [] if value in values else [f"{where}: {value!r} is not one of {values}"]
    origin, args = get_origin(shape), get_args(shape)
    if origin is Literal:
        if any(type(value) is type(arg) and value == arg for arg in args):
            return []
        return [f"{where}: {value!r} is not one of {list(args)}"]
    if origin in (Union, types.UnionType):
        for arm in args:
            kept: set[type] = set()
            if not _check(value, arm, where, bound, kept):
                seen |= kept
                return []
        return [f"{where}: {_sample(value)} fits none of {_name(shape)}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {_sample(value)} is not an array"]
        (item,) = args
        return [
            m for i, v in enumerate(value) for m in _check(v, item, f"{where}[{i}]", bound, seen)
        ]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: {_sample(value)} is not an object"]
        key_shape, item = args
        found = []
        for key, v in value.items():
            found += _check(key, key_shape, f"{where} key {key!r}", bound, seen)
            found += _check(v, item, f"{where}.{key}", bound, seen)
        return found
    typed_dict = origin if is_typeddict(origin) else shape if is_typeddict(shape) else None
    if typed_dict is not None:
        return _check_object(value, typed_dict, args, where, bound, seen)
    raise TypeError(f"{where}: an answer type may not use {shape!r}")


def _check_object(
    value: object, typed_dict: Any, args: tuple[Any, ...], where: str, bound: Bound, seen: set[type]
) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: {_sample(value)} is not an object ({typed_dict.__name__})"]
    bound = {**bound, **dict(zip(getattr(typed_dict, "__parameters__", ()), args, strict=True))}
    fields = _fields(typed_dict)
    found = [
        f"{where}: {typed_dict.__name__} has no key {key!r}"
        for key in sorted(set(value) - set(fields))
    ]
    for key, (field, required) in fields.items():
        if key in value:
            found += _check(value[key], field, f"{where}.{key}", bound, seen)
        elif required:
            found.append(f"{where}: {typed_dict.__name__}'s key {key!r} is missing")
    if not found:
        seen.add(typed_dict)
    return found


def _fields(typed_dict: Any) -> dict[str, tuple[object, bool]]:
    """Each key's type, and whether the key must be there. (``__required_keys__`` cannot say,
    on Python 3.11, for a ``NotRequired`` written in a module with postponed annotations.)"""
    fields = {}
    # JsonValue's own name, for the recursive alias's inner references, wherever it is used.
    hints = get_type_hints(typed_dict, localns={"JsonValue": JsonValue}, include_extras=True)
    for key, hint in hints.items():
        required = key not in typed_dict.__optional_keys__
        if get_origin(hint) in (NotRequired, Required):
            required = get_origin(hint) is Required
            (hint,) = get_args(hint)
        fields[key] = (hint, required)
    return fields


def _walk(shape: object, bound: Bound, found: set[type]) -> None:
    if isinstance(shape, TypeVar):
        shape = bound[shape]
    origin, args = get_origin(shape), get_args(shape)
    typed_dict = origin if is_typeddict(origin) else shape if is_typeddict(shape) else None
    if typed_dict is not None:
        if typed_dict in found:
            return
        found.add(typed_dict)
        inner = {**bound, **dict(zip(getattr(typed_dict, "__parameters__", ()), args, strict=True))}
        for field, _ in _fields(typed_dict).values():
            _walk(field, inner, found)
        return
    if origin in (Union, types.UnionType, list, dict):
        for arg in args:
            _walk(arg, bound, found)


def _any_json(value: object, where: str) -> list[str]:
    """Any JSON value (as parsed, it can hardly be anything else)."""
    for part, path in _parts(value, where):
        if not (part is None or type(part) in (bool, int, float, str, list, dict)):
            return [f"{path}: {part!r} is not JSON"]
    return []


def _parts(value: object, where: str) -> Iterator[tuple[object, str]]:
    yield value, where
    if isinstance(value, list):
        for i, v in enumerate(value):
            yield from _parts(v, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, v in value.items():
            if not isinstance(key, str):
                yield key, f"{where} key"
            yield from _parts(v, f"{where}.{key}")


def _text_parsing(value: object, where: str, parses: Any, what: str) -> list[str]:
    return [] if isinstance(value, str) and parses(value) else [f"{where}: {value!r} is not {what}"]


def _is_time(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None and "T" in text
    except ValueError:
        return False


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _name(shape: object) -> str:
    return shape.__name__ if isinstance(shape, type) else str(shape)


def _sample(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
