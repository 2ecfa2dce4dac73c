"""The texting simulator (demo and development only). Being built: see issue 5."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
