"""Real local receivers for alert tests: an HTTP webhook and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import email
import json
import threading
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from simweb import free_port


@dataclass
class Hook:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class WebhookReceiver:
    """Accepts JSON POSTs (Apprise's ``json://``) and keeps them; ``status`` decides the answer."""

    def __init__(self) -> None:
        self.received: list[Hook] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                receiver.received.append(Hook(self.path, dict(self.headers), json.loads(raw or b"{}")))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, secret: str = "hook-token") -> str:
        """The Apprise URL; its path stands for the secret a real webhook URL carries."""
        return f"json://127.0.0.1:{self.port}/hooks/{secret}"

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [hook.body for hook in self.received]

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class _Collect:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.original_content or b""))
        return "250 Message accepted for delivery"


class MailReceiver:
    """An SMTP server (aiosmtpd) that keeps every message it is given."""

    def __init__(self) -> None:
        self._collect = _Collect()
        self.controller = Controller(self._collect, hostname="127.0.0.1", port=free_port())  # aiosmtpd probes the port it is given: not 0

    def url(self, to: str = "team@example.org") -> str:
        return f"mailto://127.0.0.1:{self.controller.port}?from=paperwatch@example.org&to={to}"

    @property
    def messages(self) -> list[Message]:
        return self._collect.messages

    def __enter__(self) -> "MailReceiver":
        self.controller.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.controller.stop()
