"""Network helpers shared by the servers (HTTP API, MCP over HTTP)."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """True only for addresses that cannot be reached from another machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere
