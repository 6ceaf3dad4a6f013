"""The pure HTTP rules: which coding, and whether a conditional request gets 304."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from aggregator.serve.negotiate import gzip_acceptable, none_match, not_modified

TAG = '"0123abcd"'


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),  # no preference stated: identity is the safe reading
        ("", False),
        ("gzip", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("gzip;q=0.5", True),
        ("gzip; q=0.001", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0", False),
        ("gzip;q=0, *", False),  # an explicit refusal beats the wildcard
        ("*", True),
        ("*;q=0", False),
        ("deflate, br", False),
        ("br, *;q=0.5", True),
        ("gzip;q=0.5, identity", False),  # identity preferred
        ("gzip;q=0.5, identity;q=0.5", True),
        ("gzip, identity;q=0", True),
        ("gzip;q=abc", False),
        ("gzip;q=2", False),
        ("deflate, gzip;q=1.0, *;q=0.5", True),
    ],
)
def test_gzip_acceptable(header: str | None, expected: bool) -> None:
    assert gzip_acceptable(header) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (TAG, True),
        (f"W/{TAG}", True),  # weak comparison
        (f'"x", {TAG}', True),
        (f'"x",W/{TAG} ,"y"', True),
        ("*", True),
        (" * ", True),
        ('"x"', False),
        ('"0123abc"', False),
        ("0123abcd", False),  # unquoted is not an entity-tag
        ('"a,"0123abcd""', False),
        ("", False),
    ],
)
def test_none_match(header: str, expected: bool) -> None:
    assert none_match(header, TAG) is expected


MODIFIED = 1_700_000_000


@pytest.mark.parametrize(
    ("if_none_match", "if_modified_since", "last_modified", "expected"),
    [
        (None, None, MODIFIED, False),
        (TAG, None, MODIFIED, True),
        ('"old"', None, MODIFIED, False),
        (None, formatdate(MODIFIED, usegmt=True), MODIFIED, True),
        (None, formatdate(MODIFIED + 1, usegmt=True), MODIFIED, True),
        (None, formatdate(MODIFIED - 1, usegmt=True), MODIFIED, False),
        (None, "Tue Nov 14 22:13:20 2023", MODIFIED, True),  # asctime form, read as GMT
        (None, "yesterday", MODIFIED, False),
        (None, formatdate(MODIFIED, usegmt=True), None, False),  # nothing to compare with
        ('"old"', formatdate(MODIFIED, usegmt=True), MODIFIED, False),  # the tag decides
        (TAG, formatdate(MODIFIED - 1, usegmt=True), MODIFIED, True),
    ],
)
def test_not_modified(
    if_none_match: str | None,
    if_modified_since: str | None,
    last_modified: int | None,
    expected: bool,
) -> None:
    assert (
        not_modified(
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            etag=TAG,
            last_modified=last_modified,
        )
        is expected
    )
