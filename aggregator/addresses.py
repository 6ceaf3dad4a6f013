"""Which network addresses a remote source may live on.

    is_public_address(ip) -> bool       the one policy; pure, no I/O
    literal_address(host) -> ip | None  a URL host that is an IP address already
    host_name(text) -> str | None       a host as the fetcher compares it (allow_private's list)

A feed URL comes from a stranger (a subscription, a redirect, a DNS answer),
so by default the fetcher only ever connects to public unicast addresses: not
loopback, private, shared (CGNAT), link-local, multicast, reserved,
unspecified or documentation ranges, in IPv4 or IPv6, and not an IPv6 address
that carries one of those IPv4 addresses inside it (IPv4-mapped ``::ffff:a.b.c.d``,
IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4, Teredo).

The policy is applied to the addresses a name resolves to, not to the name,
so DNS rebinding (a name that is public on one look-up and 127.0.0.1 on the
next) cannot get around it.  ``allow_private`` turns it off for a source: for
its feed wherever it is (``true``), or on the hosts it lists only.
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# A label of a host name: letters, digits and hyphens, and underscores, which
# intranet names have and URLs carry; 63 characters at most (RFC 1035).
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Not global, though some Python versions' is_global says otherwise.
_ALSO_REFUSED: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.IPv4Network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.IPv4Network("198.18.0.0/15"),  # benchmarking
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64
    ipaddress.IPv6Network("fec0::/10"),  # site-local (deprecated, still routed inside sites)
    ipaddress.IPv6Network("100::/64"),  # discard-only
)


def is_public_address(address: IPAddress) -> bool:
    """True only for a globally routable unicast address (and what it embeds is too)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
    if any(address in network for network in _ALSO_REFUSED):
        return False
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it stands for one."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    # IPv4-compatible (deprecated ::a.b.c.d); "::" and "::1" are themselves.
    value = int(address)
    if value >> 32 == 0 and value > 1:
        return ipaddress.IPv4Address(value)
    return None


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address (an IPv6 zone such as ``%eth0`` dropped), else None."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def literal_address(host: str | None) -> IPAddress | None:
    """The address a URL host names directly (``127.0.0.1``, ``[::1]``), else None.

    Legacy IPv4 spellings (``2130706433``, ``0x7f.1``, ``127.1``) are not
    literals here: the resolver turns them into addresses, and the policy is
    applied there.
    """
    if not host:
        return None
    return parse_address(host.strip("[]"))


def host_name(text: str) -> str | None:
    """``text`` as the fetcher compares a URL's host with the hosts
    ``allow_private`` lists: an IP address in its short form, without
    brackets (``[::1]`` is ``::1``); a name in lower case and, if it is not
    ASCII, in IDNA as yarl (aiohttp's URLs) encodes it, so that ``Bücher.corp``
    and ``xn--bcher-kva.corp`` are one host.  None when ``text`` is not a
    host alone: a URL, a port, a path, a wildcard, a space.
    """
    text = text.strip()
    if "%" not in text:  # an IPv6 zone names an interface, not a host
        address = parse_address(text[1:-1] if text.startswith("[") else text)
        if address is not None:
            return address.compressed
    name = text.lower()
    if not name.isascii():
        import idna  # yarl's encoder; only a name that needs it pays the import

        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except UnicodeError:
            return None
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        return None
    return name
