"""Enclosures as feeds give them, checked like links (see normalize.enclosures)."""

from __future__ import annotations

import pytest

from aggregator.models import Enclosure
from aggregator.parse.normalize import MAX_ENCLOSURES, enclosures, image_url

BASE = "https://feed.example/podcast/"
X = "https://a.example/x"


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        (("ep.mp3", "audio/mpeg", "12"), Enclosure(BASE + "ep.mp3", "audio/mpeg", 12)),
        (
            ("https://a.example/x", "Audio/MPEG", 7),
            Enclosure("https://a.example/x", "audio/mpeg", 7),
        ),
        ((X, "audio mpeg", "1e3"), Enclosure(X)),
        ((X, None, "-1"), Enclosure(X)),
        ((X, 5, True), Enclosure(X)),
        ((X, "", "9" * 40), Enclosure(X)),  # huge
    ],
)
def test_a_bad_type_or_length_is_unknown_and_the_file_kept(
    candidate: tuple[object, object, object], expected: Enclosure
) -> None:
    assert enclosures([candidate], BASE) == ((expected,), 0)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:audio/mpeg;base64,AA", "ftp://a.example/x", None, 5]
)
def test_a_url_that_is_not_http_drops_the_file(url: object) -> None:
    assert enclosures([(url, "audio/mpeg", "1")], BASE) == ((), 1)


def test_the_same_file_twice_is_one_and_too_many_are_counted_as_dropped() -> None:
    files = [(f"https://a.example/{n}.mp3", None, None) for n in range(MAX_ENCLOSURES + 2)]
    kept, dropped = enclosures([files[0], *files], BASE)
    assert [e.url for e in kept] == [url for url, _t, _l in files[:MAX_ENCLOSURES]]
    assert dropped == 2


def test_an_image_must_be_http() -> None:
    assert image_url("i.jpg", BASE) == BASE + "i.jpg"
    assert image_url("javascript:x", BASE) is None
    assert image_url({"href": "x"}, BASE) is None
    assert image_url("https://a.example/" + "x" * 5000, BASE) is None
