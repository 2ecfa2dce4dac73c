"""``GET /healthz``: is the database reachable, and the broker."""

from __future__ import annotations

from typing import Literal, TypedDict

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hotline.web import runtime
from hotline.web.answers import answers

bp = Blueprint("health", __name__)


class Health(TypedDict):
    database: Literal["ok", "down"]
    broker: Literal["ok", "down", "in-process"]  # in-process: the demo's, without a broker


@bp.get("/healthz")
@answers(Health)
def healthz() -> tuple[Health, int]:
    rt = runtime()
    database: Literal["ok", "down"]
    broker: Literal["ok", "down", "in-process"]
    try:
        with rt.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "down"
    if rt.redis is None:
        broker = "in-process"
    else:
        from redis.exceptions import RedisError

        try:
            rt.redis.ping()
            broker = "ok"
        except (RedisError, OSError):
            broker = "down"
    status = 200 if database == "ok" else 503
    return {"database": database, "broker": broker}, status
