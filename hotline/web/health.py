"""``GET /healthz``: is the database reachable, and the broker."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hotline.web import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    rt = runtime()
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
    return jsonify(database=database, broker=broker), status
