"""JSON answers: every JSON view declares the type of its answer, which is written as JSON here.

A view that answers JSON is declared with :func:`answers` and the type of what it answers (a
``TypedDict``: see :mod:`hotline.services.answers`)::

    @bp.get("/api/me")
    @staff_view()
    @answers(Me)
    def me() -> Me:
        return console().me(...)

mypy then checks that the view returns that shape, and the shape test
(``tests/web/test_answer_shapes.py``) calls every such route and checks what came back against
it, key for key. A view returns its value (answered 200), or the value and a status.

A view that must add a header (sign-out clears the session cookie) builds its ``Response`` with
:func:`answer` and returns it, passed on as it is; its declared shape is checked by the same
test all the same.

Errors are not answers: a refusal is answered by :mod:`hotline.web.refusals`, as ``{"error":
message}``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Generic, Literal, ParamSpec, TypedDict, TypeVar

from flask import Response, jsonify

A = TypeVar("A")
T = TypeVar("T")
P = ParamSpec("P")

# The attribute a declared view carries its shape in (see :func:`answer_type`).
_SHAPE = "answer_type"


class Items(TypedDict, Generic[T]):
    """A list, in an object: ``{"items": [...]}``."""

    items: list[T]


class Done(TypedDict):
    """An action that has nothing to say but that it was done."""

    ok: Literal[True]


def answer(value: object, status: int = 200) -> Response:
    """``value`` as a JSON response with ``status``.

    ``value`` is an answer type's value: dicts, lists, text, numbers, booleans, None; enums are
    :class:`~enum.StrEnum` members, written as their text; times are ISO text already
    (:data:`hotline.services.answers.IsoTime`), never ``datetime`` objects, which Flask would
    write as an HTTP date.
    """
    response = jsonify(value)
    response.status_code = status
    return response


def answers(
    shape: type[A],
) -> Callable[[Callable[P, A | tuple[A, int] | Response]], Callable[P, Response]]:
    """Declare that the view answers JSON of type ``shape``, and answer what it returns as JSON.

    The view returns a value of ``shape`` (answered 200), a ``(value, status)`` pair, or a
    ``Response`` it built itself (passed on unchanged: see the module's docstring).
    """

    def decorate(view: Callable[P, A | tuple[A, int] | Response]) -> Callable[P, Response]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
            returned = view(*args, **kwargs)
            if isinstance(returned, Response):
                return returned
            if isinstance(returned, tuple):
                value, status = returned
                return answer(value, status)
            return answer(returned)

        # functools.wraps copies it onto the decorators above (staff_view): Flask's view has it.
        setattr(wrapper, _SHAPE, shape)
        return wrapper

    return decorate


def answer_type(view: Callable[..., object]) -> object | None:
    """The shape ``view`` declared with :func:`answers`; None if it declared none."""
    return getattr(view, _SHAPE, None)
