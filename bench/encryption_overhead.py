"""What encryption at rest costs the webhook: throughput with encryption on versus off.

Runs the full POST /twilio/sms path (signature check, validation, the texter upsert, the
encrypted insert, the hand-off) in this process on PostgreSQL, in alternating rounds with the
real Vault and with a vault that stores plaintext, and prints both rates and their ratio.
Bounded in count.

    python bench/encryption_overhead.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import secrets
import time

import _checkout  # noqa: F401  (puts the checkout on sys.path: tests.support)

from hotline import create_app, runtime_of
from hotline.infra.taskqueue import InProcessQueue
from hotline.infra.vault import Vault
from hotline.sms.sender import LocalSender
from hotline.sms.signature import sign
from tests.support.scratch import bench_settings, scratch_database

TOKEN = "bench-token"
PUBLIC_URL = "http://hotline.bench"


class PlaintextVault(Vault):
    """Encryption off, for comparison only: stores the UTF-8 bytes as they are."""

    def encrypt(self, plaintext: str) -> bytes:
        return plaintext.encode("utf-8")

    def decrypt(self, ciphertext: bytes) -> str:
        return ciphertext.decode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per variant (at most 20000)")
    args = parser.parse_args()
    total = max(100, min(args.requests, 20000))
    with scratch_database() as database_url:
        settings = bench_settings(
            database_url,
            public_url=PUBLIC_URL,
            twilio_auth_token=TOKEN,
        )
        apps = {}
        for name in ("encrypted", "plaintext"):
            app = create_app(
                {
                    "settings": settings,
                    "tasks": InProcessQueue(start=False),
                    "sender": LocalSender(),
                }
            )
            if name == "plaintext":
                runtime_of(app).vault = PlaintextVault(settings.data_keys, settings.hash_key)
            apps[name] = app
        elapsed = dict.fromkeys(apps, 0.0)
        rounds = 10
        per_round = total // rounds
        for _ in range(rounds):
            for name, app in apps.items():  # alternate, so drift hits both alike
                client = app.test_client()
                forms = []
                for _ in range(per_round):
                    form = {
                        "MessageSid": "SM" + secrets.token_hex(16),
                        "From": "+1555" + "".join(secrets.choice("0123456789") for _ in range(7)),
                        "Body": "I need help, they took my passport and I cannot leave",
                        "NumMedia": "0",
                    }
                    forms.append((form, sign(TOKEN, PUBLIC_URL + "/twilio/sms", form)))
                started = time.perf_counter()
                for form, signature in forms:
                    response = client.post(
                        "/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
                    )
                    assert response.status_code == 200
                elapsed[name] += time.perf_counter() - started
        for app in apps.values():
            runtime_of(app).engine.dispose()
    done = per_round * rounds
    rate = {name: done / seconds for name, seconds in elapsed.items()}
    print(f"webhook requests per variant: {done} (PostgreSQL, in-process, one client)")
    print(f"encryption on:  {rate['encrypted']:.0f} requests/s")
    print(f"encryption off: {rate['plaintext']:.0f} requests/s")
    print(f"ratio on/off:   {rate['encrypted'] / rate['plaintext']:.2f} (target: at least 0.8)")


if __name__ == "__main__":
    main()
