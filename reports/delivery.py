"""Sending a digest, at the edge: one channel at a time, secrets never shown, logged or stored.

Apprise URLs carry their channel's secret: they are shown, logged and recorded only as
``scheme://host/…``, and Apprise's own log records are scrubbed while it sends. A named channel
(``KIND:NAME``, such as ``prefect-block:TYPE/NAME``) is sent by the sender the caller hands in for
its kind (the flow's, ``flows.notify``), so this module knows no Prefect. A channel that fails is
logged and reported, never a reason for the run to fail.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:  # a type only: sending needs no store, so settings can import this module cheaply
    from reports.digest import Digest

log = logging.getLogger(__name__)

SEND_TIMEOUT = 30  # seconds per channel
# A named channel: KIND:NAME in plain characters (no //, no password, no query), safe to show as is.
NAMED_TARGET = re.compile(r"^([a-z][a-z0-9-]*):[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")


@dataclass(frozen=True)
class Delivery:
    channel: str  # redacted: scheme://host/…
    ok: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "ok": self.ok, "error": self.error}


def _shown_host(target: str) -> str | None:
    """The host of a target when it is a host name or address; many Apprise schemes put a token there
    (``slack://TokenA/…``, ``discord://WebhookID/…``), which is never shown."""
    host = urlsplit(target).hostname or ""
    return host if "." in host or host == "localhost" else None


def redact(target: str) -> str:
    """What may be shown of a notify target: ``scheme://host[:port]/…`` (a named channel by its name)."""
    if NAMED_TARGET.match(target):
        return target
    parts = urlsplit(target)
    host = _shown_host(target)
    if host is None:
        return f"{parts.scheme}://…"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    hidden = bool(parts.path.strip("/") or parts.query or parts.username or parts.password or parts.fragment)
    return f"{parts.scheme}://{host}{port}{'/…' if hidden else ''}"


def secrets_of(target: str) -> list[str]:
    """The pieces of a target that may be secret, longest first, for scrubbing log and error text."""
    parts = urlsplit(target)
    pieces = {target, parts.netloc, parts.path, parts.query, parts.fragment, parts.username or "", parts.password or ""}
    pieces |= set(re.split(r"[/@:]", parts.path + "/" + parts.netloc))
    pieces |= {value for _, value in parse_qsl(parts.query)}
    pieces |= {unquote(piece) for piece in list(pieces)}
    shown = {_shown_host(target), parts.scheme}
    return sorted((p for p in pieces if len(p) >= 4 and p not in shown), key=len, reverse=True)


def scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "…")
    return text


class _Scrubber(logging.Filter):
    """Rewrites Apprise's own log records so that no secret of the target reaches any handler."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage(), self.secrets), None
        return True


SENDER_LOGGERS = ("apprise", "urllib3", "requests")  # they log request URLs, and Apprise URLs turn into those


@contextmanager
def _scrubbed_sender_logs(target: str) -> Iterator[list[str]]:
    """While sending, every logger of the sending stack rewrites its records (a logger's filter sees
    only the records made at that logger, hence each child, such as ``urllib3.connectionpool``)."""
    secrets = secrets_of(target)
    scrubber = _Scrubber(secrets)
    names = [name for name in list(logging.root.manager.loggerDict)
             if name in SENDER_LOGGERS or name.startswith(tuple(f"{prefix}." for prefix in SENDER_LOGGERS))]
    loggers = [logging.getLogger(name) for name in {*names, *SENDER_LOGGERS}]
    for logger in loggers:
        logger.addFilter(scrubber)
    try:
        yield secrets
    finally:
        for logger in loggers:
            logger.removeFilter(scrubber)


def send_apprise(target: str, digest: Digest) -> Delivery:
    """An Apprise URL: the digest in the channel's own format (HTML, Markdown or text)."""
    import apprise

    channel = redact(target)
    with _scrubbed_sender_logs(target) as secrets:
        app = apprise.Apprise()
        if not app.add(target):
            return Delivery(channel, False, "not a notify URL Apprise knows")
        formats = app[0].notify_format
        native = formats[0] if isinstance(formats, tuple) else formats
        body = {apprise.NotifyFormat.HTML: digest.html(), apprise.NotifyFormat.MARKDOWN: digest.markdown()}.get(
            native, digest.text())
        result = app.notify(body=body, title=digest.title, body_format=native, timeout=SEND_TIMEOUT)
        if result:
            return Delivery(channel, True)
        problems = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
        return Delivery(channel, False, scrub(problems[-1] if problems else "the channel did not take the message", secrets))


Sender = Callable[[str, "Digest"], Delivery]  # sends a digest to one target; may raise (reported as a failed delivery)


def send_digest(digest: Digest, targets: Sequence[str], senders: Mapping[str, Sender] | None = None) -> list[Delivery]:
    """Send to each channel on its own; a channel that fails is reported, the others still get the digest.

    ``senders`` maps a named channel's kind (``prefect-block``) to the sender the caller provides;
    every other target is an Apprise URL.
    """
    deliveries = []
    for target in targets:
        try:
            delivery = sender_for(target, senders or {})(target, digest)
        except Exception as exc:
            delivery = Delivery(redact(target), False, scrub(f"{type(exc).__name__}: {exc}", secrets_of(target)))
        if not delivery.ok:
            log.warning("alert to %s not delivered: %s", delivery.channel, delivery.error)
        deliveries.append(delivery)
    return deliveries


def sender_for(target: str, senders: Mapping[str, Sender]) -> Sender:
    named = NAMED_TARGET.match(target)
    if named is None:
        return send_apprise
    return senders.get(named.group(1)) or _no_sender


def _no_sender(target: str, digest: Digest) -> Delivery:
    return Delivery(target, False, f"no sender for {target.split(':', 1)[0]}: channels here")
