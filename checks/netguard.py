"""Refuse to send requests from untrusted URLs to private, loopback or link-local addresses.

URLs come from abstracts, so a paper could point the monitor at a cloud metadata
service or an intranet host. The guard is applied to every URL we would request,
including each redirect target, and (in ``checks.transport``) to the addresses a host
name resolves to, at connect time.
"""

from __future__ import annotations

import ipaddress

_FORBIDDEN_NAMES = ("localhost", "localhost.localdomain", "metadata.google.internal", "metadata")


def forbidden_address(address: str) -> str | None:
    """Why this IP address must not be contacted, or None when it is public."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return f"{ip} is a loopback address"
    if ip.is_link_local:
        return f"{ip} is a link-local address (cloud metadata lives here)"
    if ip.is_private:
        return f"{ip} is a private address"
    if ip.is_unspecified or ip.is_reserved or ip.is_multicast:
        return f"{ip} is not a public unicast address"
    return None


def forbidden_host(host: str) -> str | None:
    """Why this host (name or literal address) must not be contacted, judged without DNS."""
    name = host.lower().rstrip(".")
    if name in _FORBIDDEN_NAMES or name.endswith(".localhost"):
        return f"{name} is a local host name"
    return forbidden_address(name)
