"""The demo, really served: a DEMO-mode app (the simulator's carrier, tasks on a thread) on a
free local port. Shared by the tests of the simulator and of ``hotline simulate``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import make_server

from hotline import create_app, runtime_of
from hotline.devtools.simulated import SimulatedCarrier
from hotline.infra.taskqueue import InProcessQueue
from hotline.settings import Mode, Settings
from tests.conftest import TEST_AUTH_TOKEN, TEST_DATA_KEY, TEST_HASH_KEY
from tests.support.stack import free_port


@dataclass
class Served:
    base: str
    app: Flask

    @property
    def carrier(self) -> SimulatedCarrier:
        sender = runtime_of(self.app).sender
        assert isinstance(sender, SimulatedCarrier)
        return sender


@contextmanager
def serve_demo(database_url: str) -> Iterator[Served]:
    """A DEMO-mode app (the simulator's carrier, tasks on a thread) on a free local port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        mode=Mode.DEMO,
        database_url=database_url,
        secret_key="simulator-test-secret",
        data_keys=(TEST_DATA_KEY,),
        hash_key=TEST_HASH_KEY,
        public_url=base,
        twilio_auth_token=TEST_AUTH_TOKEN,
    )
    queue = InProcessQueue(start=True)
    app = create_app({"settings": settings, "tasks": queue})
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    served = Served(base, app)
    try:
        yield served
    finally:
        queue.stop()
        served.carrier.close()
        server.shutdown()
        server.server_close()
        thread.join(5)
        runtime_of(app).engine.dispose()
