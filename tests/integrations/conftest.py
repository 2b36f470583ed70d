"""Fixtures of the API platform: tokens, service accounts, a local webhook receiver."""

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient

from integrations.choices import TokenScope
from integrations.tokens import api_token_create, service_account_create


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def make_token() -> Callable[..., str]:
    def make(user, *, scope: str = TokenScope.WRITE, **kwargs) -> str:
        kwargs.setdefault("name", "test token")
        _token, raw = api_token_create(user=user, scope=scope, **kwargs)
        return raw

    return make


@pytest.fixture
def monitoring():
    """The service account Prometheus posts alerts as."""
    return service_account_create(name="Prometheus", by=None).user


@pytest.fixture
def monitoring_client(monitoring, make_token) -> APIClient:
    return bearer(make_token(monitoring))


# ------------------------------------------------------------------ webhook receiver
@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A tiny HTTP server on 127.0.0.1: records each POST and answers the next status
    from `script` (then 200)."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver is on loopback
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            state.requests.append(Received(dict(self.headers.items()), body))
            code = state.answer()
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/servicedesk"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
