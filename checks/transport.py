"""The HTTP client behind page checks: httpx's API over aiohttp's connection pool.

httpx's default transport costs ~5 ms of CPU per request on these machines, which makes
a large run CPU-bound; aiohttp's pool does the same work for a fraction of that, behind
httpx's own transport interface (requests and responses stay ``httpx`` objects). The
resolver refuses private, loopback and link-local addresses at connect time, so a host
name that resolves (or re-resolves) into an intranet is never contacted.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import yarl
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver

from checks.netguard import forbidden_address


class ForbiddenAddressError(OSError):
    """A host resolved to an address that untrusted URLs must not reach."""


class GuardedResolver(ThreadedResolver):
    """Resolve as usual, then refuse non-public addresses unless the host is trusted."""

    def __init__(self, trusted_hosts: Collection[str], allow_private: bool) -> None:
        super().__init__()
        self.trusted_hosts = trusted_hosts
        self.allow_private = allow_private

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await super().resolve(host, port, family)
        if self.allow_private or host.lower() in self.trusted_hosts:
            return results
        for result in results:
            reason = forbidden_address(result["host"])
            if reason:
                raise ForbiddenAddressError(f"{host} resolves to a non-public address ({reason})")
        return results


class InvalidURLError(httpx.TransportError):
    """The URL cannot be sent at all (httpx and the pool refuse to encode it); nothing was requested."""


@dataclass(frozen=True)
class Failure:
    """Why a request got no HTTP answer, judged from the underlying exception chain.

    The adapter maps aiohttp errors onto httpx classes loosely (a refused connection
    arrives as ``httpx.ConnectTimeout``), so the original cause decides.
    """

    kind: str  # forbidden, invalid, nxdomain, dns, timeout, connect, tls, dropped, other
    message: str

    @property
    def network(self) -> bool:
        """Could this be *our* network being down rather than the site?"""
        return self.kind in ("nxdomain", "dns", "timeout", "connect", "dropped", "tls")


def classify_failure(exc: BaseException, host: str, timeout: float) -> Failure:
    forbidden = _find(exc, ForbiddenAddressError)
    if forbidden is not None:
        return Failure("forbidden", str(forbidden))
    if _find(exc, InvalidURLError) is not None:
        return Failure("invalid", _first_line(exc))
    code = _gaierror_code(exc)
    if code in _NXDOMAIN_CODES:
        return Failure("nxdomain", f"host not found: DNS says {host} does not exist")
    if code is not None or _find(exc, aiohttp.ClientConnectorDNSError) is not None:
        return Failure("dns", f"DNS lookup of {host} failed")
    if _find(exc, asyncio.TimeoutError) is not None or isinstance(exc, (httpx.ReadTimeout, httpx.PoolTimeout)):
        return Failure("timeout", f"no answer within {timeout:g} s")
    if _find(exc, ssl.SSLError) is not None or _find(exc, aiohttp.ClientSSLError) is not None:
        return Failure("tls", f"TLS failure: {_first_line(exc)}")
    if _find(exc, aiohttp.ServerDisconnectedError) is not None or isinstance(exc, httpx.RemoteProtocolError):
        return Failure("dropped", "the server closed the connection without answering")
    if _find(exc, aiohttp.ClientConnectorError) is not None or isinstance(exc, httpx.ConnectError):
        return Failure("connect", f"could not connect to {host}: {_first_line(exc)}")
    if _find(exc, aiohttp.ClientPayloadError) is not None or isinstance(exc, httpx.ReadError):
        return Failure("dropped", f"the connection broke while reading: {_first_line(exc)}")
    return Failure("other", f"{type(exc).__name__}: {_first_line(exc)}")


_NXDOMAIN_CODES = frozenset({socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)})


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _find(exc: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...]) -> Any:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _gaierror_code(exc: BaseException) -> int | None:
    found = _find(exc, socket.gaierror)
    if found is not None:
        return found.errno
    dns = _find(exc, aiohttp.ClientConnectorDNSError)
    if dns is not None and isinstance(dns.os_error, socket.gaierror):
        return dns.os_error.errno
    return None


class _Body(httpx.AsyncByteStream):
    """An aiohttp response body as an httpx stream; closing it returns the connection to the pool."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(16 * 1024):
                yield chunk
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _as_httpx(exc) from exc

    async def prefix(self, limit: int, drain_to: int) -> bytes:
        """The body's first ``limit`` bytes, read on (and discarded) up to ``drain_to`` bytes.

        Straight from aiohttp's buffer: a body that has already arrived whole costs no reading
        at all, and a response released at its end leaves its connection to the pool.
        """
        content = self._response.content
        want = max(limit, drain_to)
        kept: list[bytes] = []
        received = 0
        try:
            while received < want and not content.at_eof():
                chunk = await content.read(want - received)
                if not chunk:
                    break
                if received < limit:
                    kept.append(chunk)
                received += len(chunk)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _as_httpx(exc) from exc
        return b"".join(kept)[:limit]

    async def aclose(self) -> None:
        self._response.release()


async def read_prefix(response: httpx.Response, limit: int, drain_to: int = 0) -> bytes:
    """At most ``limit`` bytes of a streamed response's body; reading goes on, discarding, up to ``drain_to``.

    Draining a small body to its end lets its connection serve the next request; a large one is
    left unread (its connection is closed when the response is). Close the response afterwards.
    """
    if not limit and not drain_to:
        return b""
    if isinstance(response.stream, _Body):
        return await response.stream.prefix(limit, drain_to)
    kept: list[bytes] = []
    received = 0
    async for chunk in response.aiter_raw():
        if received < limit:
            kept.append(chunk)
        received += len(chunk)
        if received >= limit and received >= drain_to:
            break
    return b"".join(kept)[:limit]


async def close(response: httpx.Response) -> None:
    """Close a streamed response: its connection goes back to the pool if its body was read to the end."""
    if isinstance(response.stream, _Body):  # without httpx's per-response bookkeeping, which costs as much as the read
        response.is_closed = True
        await response.stream.aclose()
    else:
        await response.aclose()


def _as_httpx(exc: BaseException) -> httpx.TransportError:
    """The httpx class a caller expects; the aiohttp cause stays chained for ``classify_failure``."""
    if isinstance(exc, asyncio.TimeoutError):
        return httpx.ReadTimeout(str(exc) or "timed out")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.ReadError(str(exc))
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(str(exc))
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        return httpx.UnsupportedProtocol(str(exc))
    return httpx.TransportError(str(exc) or type(exc).__name__)


# Already percent-encoded ASCII (RFC 3986 characters, ``%`` only as an escape, no IP-literal brackets): sent as is.
_ENCODED_URL = re.compile(r"[A-Za-z0-9\-._~:/?#@!$&'()*+,;=]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9\-._~:/?#@!$&'()*+,;=]*)*")


def _wire_url(url: str) -> yarl.URL:
    """The URL as sent: encoded exactly as httpx encodes it (IDN hosts, spaces, non-ASCII), parsed once."""
    if _ENCODED_URL.fullmatch(url) is None:
        url = str(httpx.URL(url))
    wire = yarl.URL(url, encoded=True)
    wire.port  # noqa: B018 -- yarl reads the authority lazily: a bad port raises here, not deep in the pool
    return wire


class PageTransport(httpx.AsyncBaseTransport):
    """httpx's transport interface over one guarded aiohttp pool, lean enough for 10,000s of URLs.

    Page checks call :meth:`send`, which answers with an ``httpx.Response`` but takes the URL as
    the string it already is: building an ``httpx.Request`` parses the URL a second time (aiohttp
    parses it for the connection anyway), about 50 µs per request, a sixth of the CPU a page check
    may spend. Through :meth:`handle_async_request` the pool also serves an ``httpx.AsyncClient``.
    httpx's client layer (auth flow, redirect handling, cookie jar, event hooks) is work a checker
    that follows redirects by hand and keeps no cookies does not want. Request headers are
    converted once per distinct set (the checker sends one set per host).
    """

    def __init__(self, *, max_connections: int, trusted_hosts: Collection[str], allow_private: bool) -> None:
        self._options = (max_connections, trusted_hosts, allow_private)
        self._session: aiohttp.ClientSession | None = None
        self._headers: dict[tuple[tuple[bytes, bytes], ...], dict[str, str]] = {}
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}

    def _pool(self) -> aiohttp.ClientSession:
        if self._session is None:
            limit, trusted, allow_private = self._options
            connector = aiohttp.TCPConnector(limit=limit, limit_per_host=0, ttl_dns_cache=300,
                                             resolver=GuardedResolver(trusted, allow_private))
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
                                                  skip_auto_headers=("Accept-Encoding",))
        return self._session

    def _plain_headers(self, headers: httpx.Headers | dict[str, str]) -> dict[str, str]:
        if isinstance(headers, dict):
            return headers
        key = tuple(headers.raw)
        plain = self._headers.get(key)
        if plain is None:
            plain = self._headers[key] = {k.decode("latin-1"): v.decode("latin-1") for k, v in key}
        return plain

    def timeout(self, given: Mapping[str, Any]) -> aiohttp.ClientTimeout:
        """The pool's timeout for httpx's timeout mapping (``httpx.Timeout(...).as_dict()``), made once per value."""
        key = (given.get("connect"), given.get("read"), given.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(sock_connect=key[0], sock_read=key[1], connect=key[2])
        return timeout

    async def send(self, method: str, url: str, headers: httpx.Headers | dict[str, str], timeout: Mapping[str, Any], *,
                   content: bytes | None = None, request: httpx.Request | None = None) -> httpx.Response:
        """Send one request for an already-encoded ``url``; the response's body is streamed (close it).

        ``headers`` are httpx's, or a plain ``dict`` of header strings sent as they are (a caller
        that sends the same headers many times builds that once).

        Failures are raised as httpx's exception classes, with aiohttp's cause chained for
        :func:`classify_failure`.
        """
        try:
            wire = _wire_url(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise InvalidURLError(f"not a valid URL ({_first_line(exc)})") from exc
        try:
            response = await self._pool().request(
                method, wire, headers=self._plain_headers(headers), data=content,
                allow_redirects=False, timeout=self.timeout(timeout))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _as_httpx(exc) from exc
        return httpx.Response(status_code=response.status, headers=response.raw_headers, stream=_Body(response),
                              request=request, extensions={"http_version": b"HTTP/1.1"})

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.send(request.method, str(request.url), request.headers,
                               request.extensions.get("timeout") or {}, content=request.content or None, request=request)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


DEFAULT_HEADERS = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
