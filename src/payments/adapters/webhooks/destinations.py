"""Where merchant webhooks may go: any http(s) URL in sandbox mode, public HTTPS hosts in live."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Final
from urllib.parse import SplitResult, urlsplit

from payments.domain.errors import FieldError, ValidationError

DestinationRule = Callable[[str], None]
"""Raises ``ValidationError`` (field ``url``) for a URL events may not be sent to."""

MAX_URL_LENGTH: Final = 2000
Resolver = Callable[[str], list[str]]


def _refused(message: str) -> ValidationError:
    return ValidationError("The webhook endpoint is invalid.", errors=[FieldError("url", message)])


def _shape(url: str, schemes: frozenset[str]) -> SplitResult:
    """The URL split, or ``ValidationError``: too long, another scheme, no host, credentials."""
    if len(url) > MAX_URL_LENGTH:
        raise _refused(f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise _refused("is not a valid URL") from error
    if parts.scheme not in schemes:
        raise _refused(f"must be an {' or '.join(sorted(schemes))} URL")
    if not parts.hostname:
        raise _refused("must name a host")
    if parts.username is not None or parts.password is not None:
        raise _refused("must not carry credentials")
    return parts


def resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to (an IP literal is its own address)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def any_http_destination(url: str) -> None:
    """Sandbox mode: any http or https URL, loopback and private hosts included (tests and
    local development receive on them)."""
    _shape(url, frozenset({"http", "https"}))


def public_https_only(resolver: Resolver = resolve) -> DestinationRule:
    """Live mode: HTTPS URLs whose host resolves, and only to public addresses (no loopback,
    private, link-local, multicast or reserved one), so that nobody makes us post to our own
    network."""

    def check(url: str) -> None:
        host = _shape(url, frozenset({"https"})).hostname or ""
        try:
            addresses = resolver(host)
        except (OSError, UnicodeError) as error:
            raise _refused("names a host that does not resolve") from error
        if not addresses:
            raise _refused("names a host that does not resolve")
        if not all(_public(address) for address in addresses):
            raise _refused("must not point to a private, loopback or link-local address")

    return check
