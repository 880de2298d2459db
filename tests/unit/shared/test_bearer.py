"""The one `Authorization: Bearer <key>` parser every service uses."""

from __future__ import annotations

import hashlib

import pytest

from shared import MAX_KEY_CHARS, MalformedCredentials, bearer_key, digest_matches, key_digest


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER   abc  ", "abc"),
        (None, None),
    ],
)
def test_a_bearer_header_gives_its_key(header: str | None, key: str | None) -> None:
    assert bearer_key(header) == key


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("", "Bearer <key>"),
        ("Bearer", "Bearer <key>"),
        ("Bearer    ", "Bearer <key>"),
        ("Basic dXNlcjpwYXNz", "Bearer <key>"),
        ("Token abc", "Bearer <key>"),
        ("Bearer " + "k" * (MAX_KEY_CHARS + 1), f"longer than {MAX_KEY_CHARS}"),
    ],
)
def test_a_malformed_header_is_refused_with_the_reason(header: str, says: str) -> None:
    with pytest.raises(MalformedCredentials, match=says) as caught:
        bearer_key(header)
    assert caught.value.http_status == 401
    assert caught.value.code == "unauthenticated"


def test_a_key_of_the_maximum_length_is_taken() -> None:
    assert bearer_key("Bearer " + "k" * MAX_KEY_CHARS) == "k" * MAX_KEY_CHARS


def test_keys_are_held_as_sha256_digests_and_compared_against_all() -> None:
    digest = key_digest("s3cret-key")
    assert digest == hashlib.sha256(b"s3cret-key").hexdigest()
    assert digest_matches("s3cret-key", [key_digest("other"), digest])
    assert not digest_matches("s3cret-key", [key_digest("other")])
    assert not digest_matches("s3cret-key", [])
