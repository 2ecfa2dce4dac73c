"""The Celery app: ``celery -A workers worker`` and ``celery -A workers beat``.

As in Flask's own Celery example, the worker builds the Flask app and every task runs inside
its app context. This module is imported only by the ``celery`` command.
"""

from __future__ import annotations

from hotline import create_app

flask_app = create_app()
if "celery" not in flask_app.extensions:
    raise RuntimeError("HOTLINE_REDIS_URL is not set: a Celery worker needs Redis as its broker")
celery = flask_app.extensions["celery"]
