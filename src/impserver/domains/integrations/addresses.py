"""Where a webhook may send: the public internet only, unless the installation allows more.

A webhook makes IMP send requests where an administrator says. Left unchecked that reaches the
server's own network (an admin page on localhost, a cloud's metadata service at 169.254.169.254),
so by default every address the host name resolves to must be a public one. On-premises
installations whose receivers live in the company network turn
``IMP_WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` on. The check runs when the hook is saved and again
before every delivery, since what a name resolves to can change in between.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from impserver.core.errors import InvalidInput

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# A name that takes longer than this to resolve counts as not resolved.
RESOLVE_SECONDS = 5.0


class AddressRefused(InvalidInput):
    """Raised when saving (a 422 naming the field) and recorded as a failed delivery attempt."""


def _is_public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def _resolve(host: str, port: int) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(
            f"url: the host name {host} could not be resolved.",
            code="webhook_host_unresolvable",
            params={"field": "url", "host": host},
        ) from exc
    # An IPv6 scope ("fe80::1%eth0") is not part of the address.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


async def check_destination(url: str, *, allow_private: bool) -> None:
    """Refuse an address whose host is (or resolves to) anything but a public address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _resolve(host, port)
    if allow_private:
        return
    refused = [str(a) for a in addresses if not _is_public(a)]
    if refused:
        raise AddressRefused(
            f"url: {host} is a loopback, link-local or private address ({refused[0]}); "
            "webhooks go to public addresses unless the installation allows private ones.",
            code="webhook_address_forbidden",
            params={"field": "url", "host": host},
        )
