"""The HTTP client behind page checks: httpx's API over aiohttp's connection pool.

httpx's default transport costs ~5 ms of CPU per request on these machines, which makes
a large run CPU-bound; aiohttp's pool does the same work for a fraction of that. The
resolver refuses private, loopback and link-local addresses at connect time, so a host
name that resolves (or re-resolves) into an intranet is never contacted.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver
from httpx_aiohttp import AiohttpTransport

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


@dataclass(frozen=True)
class Failure:
    """Why a request got no HTTP answer, judged from the underlying exception chain.

    The adapter maps aiohttp errors onto httpx classes loosely (a refused connection
    arrives as ``httpx.ConnectTimeout``), so the original cause decides.
    """

    kind: str  # forbidden, nxdomain, dns, timeout, connect, tls, dropped, other
    message: str

    @property
    def network(self) -> bool:
        """Could this be *our* network being down rather than the site?"""
        return self.kind in ("nxdomain", "dns", "timeout", "connect", "dropped", "tls")


def classify_failure(exc: BaseException, host: str, timeout: float) -> Failure:
    forbidden = _find(exc, ForbiddenAddressError)
    if forbidden is not None:
        return Failure("forbidden", str(forbidden))
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


def build_client(*, max_connections: int, timeout: float, user_agent: str, trusted_hosts: Collection[str],
                 allow_private: bool) -> httpx.AsyncClient:
    """An httpx client over a guarded aiohttp pool that keeps no cookies."""

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=0, ttl_dns_cache=300,
                                         resolver=GuardedResolver(trusted_hosts, allow_private))
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False)

    return httpx.AsyncClient(
        transport=AiohttpTransport(client=session),
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
        trust_env=False,
    )
