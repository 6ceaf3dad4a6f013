"""Where the fetcher may connect: public addresses only, unless a source allows private ones.

Every refusal happens before a connection is made (the loopback server
counts the requests that reached it).  Names that resolve to private
addresses are faked with a resolver, so no test ever sends a packet beyond
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from aggregator.addresses import IPAddress, is_public_address, literal_address
from aggregator.config import FetchConfig
from aggregator.errors import FetchError
from aggregator.fetch.http import GuardedResolver, HttpFetcher, PrivateAddressError, PrivateScope
from aggregator.models import Fetched, FetchState
from tests.feedserver import FeedServer, Route

FEED = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.1.2.3", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "198.51.100.7",
        "192.0.0.8", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1",
        "64:ff9b:1::a00:1", "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:80ff:fffe",
        "::127.0.0.1", "2001:db8::1", "fec0::1",
    ],
)  # fmt: skip
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


def test_literal_addresses() -> None:
    assert literal_address("127.0.0.1") == LOOPBACK
    assert literal_address("[::1]") == ipaddress.IPv6Address("::1")
    assert literal_address("fe80::1%eth0") == ipaddress.IPv6Address("fe80::1")
    assert literal_address("example.com") is None
    assert literal_address("2130706433") is None  # left to the resolver, which checks it


class FakeResolver(AbstractResolver):
    """Answers from a table, one answer list per call, so DNS can change its mind."""

    def __init__(self, answers: dict[str, list[list[str]]]):
        self.answers = answers
        self.calls: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls.append(host)
        queue = self.answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        pass


def test_resolver_keeps_only_allowed_answers() -> None:
    fake = FakeResolver({"mixed.test": [["10.0.0.1", "93.184.216.34", "::1"]]})
    guarded = GuardedResolver(is_public_address, fake)
    answers = asyncio.run(guarded.resolve("mixed.test", 80))
    assert [a["host"] for a in answers] == ["93.184.216.34"]


def test_dns_rebinding_is_checked_on_every_answer() -> None:
    """Public on the first look-up, loopback on the second: the second is refused."""
    fake = FakeResolver({"rebind.test": [["93.184.216.34"], ["127.0.0.1"]]})
    guarded = GuardedResolver(is_public_address, fake)
    assert asyncio.run(guarded.resolve("rebind.test", 80))[0]["host"] == "93.184.216.34"
    with pytest.raises(PrivateAddressError, match=r"rebind\.test resolves to 127\.0\.0\.1"):
        asyncio.run(guarded.resolve("rebind.test", 80))


def fetch(
    url: str,
    *,
    allow_private: PrivateScope = False,
    allowed: object = is_public_address,
    resolver: AbstractResolver | None = None,
) -> Fetched:
    async def run() -> Fetched:
        fetcher = HttpFetcher(
            FetchConfig(timeout=5),
            address_allowed=allowed,  # type: ignore[arg-type]
            resolver=resolver,
        )
        async with fetcher:
            return await fetcher.fetch("guarded", url, FetchState(), allow_private=allow_private)

    return asyncio.run(run())


def test_loopback_literal_is_refused_without_connecting(feed_server: FeedServer) -> None:
    route = feed_server.add("/feed", Route(FEED))
    with pytest.raises(FetchError) as caught:
        fetch(feed_server.url("/feed"))
    message = str(caught.value)
    assert message.startswith("guarded: refused: ")
    assert "127.0.0.1, which is not a public address" in message
    assert "allow_private: true" in message and "\n" not in message
    assert route.requests == 0


def test_name_resolving_to_loopback_is_refused_without_connecting(
    feed_server: FeedServer,
) -> None:
    route = feed_server.add("/feed", Route(FEED))
    with pytest.raises(FetchError, match=r"localhost resolves to 127\.0\.0\.1"):
        fetch(feed_server.url("/feed").replace("127.0.0.1", "localhost"))
    assert route.requests == 0


@pytest.mark.parametrize("host", ["[::1]", "[::ffff:127.0.0.1]", "0.0.0.0", "169.254.169.254"])
def test_other_private_literals_are_refused(host: str) -> None:
    with pytest.raises(FetchError, match="not a public address"):
        fetch(f"http://{host}:9/feed")


def test_allow_private_connects(feed_server: FeedServer) -> None:
    feed_server.add("/feed", Route(FEED))
    assert fetch(feed_server.url("/feed"), allow_private=True).documents[0].body == FEED


def only_loopback(address: IPAddress) -> bool:
    """A policy for tests: the loopback server stands in for a public host."""
    return address == LOOPBACK


def test_redirect_to_a_private_literal_is_refused(feed_server: FeedServer) -> None:
    port = feed_server.url("/").rsplit(":", 1)[1].rstrip("/")
    feed_server.add(
        "/start", Route(status=302, etag=False, headers={"Location": f"http://127.0.0.2:{port}/x"})
    )
    with pytest.raises(FetchError, match=r"redirect to http://127\.0\.0\.2.*not a public address"):
        fetch(feed_server.url("/start"), allowed=only_loopback)


def test_redirect_to_a_name_resolving_to_a_private_address_is_refused(
    feed_server: FeedServer,
) -> None:
    port = feed_server.url("/").rsplit(":", 1)[1].rstrip("/")
    target = f"http://internal.test:{port}/metadata"
    feed_server.add("/start", Route(status=302, etag=False, headers={"Location": target}))
    fake = FakeResolver({"internal.test": [["10.0.0.7"]]})
    with pytest.raises(FetchError, match=r"internal\.test resolves to 10\.0\.0\.7"):
        fetch(feed_server.url("/start"), allowed=only_loopback, resolver=fake)
    assert fake.calls == ["internal.test"]


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "ftp://127.0.0.1/feed", "gopher://127.0.0.1:70/_x"]
)
def test_redirect_to_a_non_http_url_is_refused(feed_server: FeedServer, location: str) -> None:
    feed_server.add("/start", Route(status=302, etag=False, headers={"Location": location}))
    with pytest.raises(FetchError, match=r"refused: redirect to .* is not an http"):
        fetch(feed_server.url("/start"), allow_private=True)


def test_permanent_redirect_chain_is_reported(feed_server: FeedServer) -> None:
    feed_server.add("/old", Route(status=301, etag=False, headers={"Location": "/newer"}))
    feed_server.add("/newer", Route(status=308, etag=False, headers={"Location": "/newest"}))
    feed_server.add("/newest", Route(FEED))
    fetched = fetch(feed_server.url("/old"), allow_private=True)
    assert fetched.permanent_redirect == feed_server.url("/newest")
    assert fetched.documents[0].location == feed_server.url("/newest")


def test_temporary_redirect_ends_the_permanent_run(feed_server: FeedServer) -> None:
    feed_server.add("/old", Route(status=301, etag=False, headers={"Location": "/tmp"}))
    feed_server.add("/tmp", Route(status=302, etag=False, headers={"Location": "/final"}))
    feed_server.add("/final", Route(FEED))
    fetched = fetch(feed_server.url("/old"), allow_private=True)
    assert fetched.permanent_redirect == feed_server.url("/tmp")


def test_a_scope_of_hosts_allows_private_addresses_on_those_hosts_only(
    feed_server: FeedServer,
) -> None:
    """An article page's scope: its feed's host may be private, a redirect
    off it to another private host meets the guard again."""
    port = feed_server.url("/").rsplit(":", 1)[1].rstrip("/")
    secret = feed_server.add("/secret", Route(FEED))
    feed_server.add("/page", Route(FEED))
    feed_server.add(
        "/start",
        Route(status=302, etag=False, headers={"Location": f"http://localhost:{port}/secret"}),
    )
    scope = frozenset({"127.0.0.1"})
    assert fetch(feed_server.url("/page"), allow_private=scope).documents[0].body == FEED
    with pytest.raises(FetchError, match=r"localhost resolves to 127\.0\.0\.1.*feed's host"):
        fetch(feed_server.url("/start"), allow_private=scope)
    with pytest.raises(FetchError, match=r"names 127\.0\.0\.1.*feed's host"):
        fetch(feed_server.url("/page"), allow_private=frozenset({"localhost"}))
    assert secret.requests == 0


@pytest.mark.parametrize(
    ("url", "listed", "covered"),
    [
        ("http://Bücher.Corp:8080/x", "xn--bcher-kva.corp", True),
        ("http://xn--bcher-kva.corp/x", "xn--bcher-kva.corp", True),
        ("http://WIKI.corp/x", "wiki.corp", True),
        ("http://[0:0::1]:9/x", "::1", True),
        ("http://wiki.corp.evil.test/x", "wiki.corp", False),
        ("http://corp/x", "wiki.corp", False),
    ],
)
def test_a_listed_host_covers_its_url_by_host_on_any_port(
    url: str, listed: str, covered: bool
) -> None:
    """By host, as allow_private lists them (host_name's spelling), not host and port."""
    from yarl import URL

    from aggregator.fetch.http import _covers

    assert _covers(frozenset({listed}), URL(url)) is covered
