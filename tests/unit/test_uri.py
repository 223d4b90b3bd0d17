from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogmem.core import errors, uri

SEGMENT_ALPHABET = st.sampled_from(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
)
segments = st.text(SEGMENT_ALPHABET, min_size=1, max_size=40).filter(lambda s: s not in (".", ".."))


@given(account=segments, path=st.lists(segments, max_size=8))
def test_build_then_parse_round_trips(account: str, path: list[str]) -> None:
    built = uri.build(account, *path)
    assert uri.parse(str(built)) == built
    assert str(uri.parse(str(built))) == str(built)


@given(account=segments, path=st.lists(segments, min_size=1, max_size=8))
def test_parent_and_name_recompose_the_uri(account: str, path: list[str]) -> None:
    built = uri.build(account, *path)
    assert built.parent is not None
    assert built.parent.child(built.name) == built


@pytest.mark.parametrize("bad", [".", ".."])
def test_dot_segments_are_rejected(bad: str) -> None:
    with pytest.raises(errors.InvalidURI, match="may not be"):
        uri.build("acme", "users", bad)
    with pytest.raises(errors.InvalidURI):
        uri.parse(f"ctx://acme/users/{bad}/memories")


def test_empty_segments_are_rejected() -> None:
    with pytest.raises(errors.InvalidURI, match="empty"):
        uri.parse("ctx://acme//users")
    with pytest.raises(errors.InvalidURI, match="empty"):
        uri.build("", "users")


@given(st.text(SEGMENT_ALPHABET, min_size=129, max_size=300))
def test_oversize_segments_are_rejected(segment: str) -> None:
    with pytest.raises(errors.InvalidURI, match="longer than 128"):
        uri.build("acme", segment)


def test_oversize_uri_is_rejected() -> None:
    path = ["a" * 100] * 11  # every segment legal, the whole over 1,024 bytes
    with pytest.raises(errors.InvalidURI, match="1024 bytes"):
        uri.build("acme", *path)
    with pytest.raises(errors.InvalidURI, match="1024 bytes"):
        uri.parse("ctx://acme/" + "/".join(path))


@given(
    prefix=st.text(SEGMENT_ALPHABET, max_size=5),
    bad=st.characters(codec="utf-8").filter(
        lambda c: not (c.isascii() and (c.isalnum() or c in "._-"))
    ),
)
def test_segments_with_other_characters_are_rejected(prefix: str, bad: str) -> None:
    with pytest.raises(errors.InvalidURI):
        uri.build("acme", prefix + bad)


@pytest.mark.parametrize("control", ["\x00", "\n", "\t", "\x7f", "\u202e"])
def test_control_characters_are_rejected(control: str) -> None:
    with pytest.raises(errors.InvalidURI):
        uri.parse(f"ctx://acme/users/al{control}ice")


@pytest.mark.parametrize(
    "text", ["acme/users", "http://acme/users", "ctx:/acme", "", "ctx://acme/users/../../etc"]
)
def test_malformed_uris_are_rejected(text: str) -> None:
    with pytest.raises(errors.InvalidURI):
        uri.parse(text)


def test_trailing_slash_is_tolerated() -> None:
    assert str(uri.parse("ctx://acme/users/")) == "ctx://acme/users"


@given(st.text(max_size=200))
def test_slugify_always_gives_a_legal_segment(text: str) -> None:
    uri.validate_segment(uri.slugify(text))


def test_slugify_examples() -> None:
    assert uri.slugify("Dark Mode!") == "dark-mode"
    assert uri.slugify("Café au lait") == "cafe-au-lait"
    assert uri.slugify("../..") == "item"


def test_is_within() -> None:
    assert uri.is_within("ctx://a/users/u/x", "ctx://a/users/u")
    assert uri.is_within("ctx://a/users/u", "ctx://a/users/u/")
    assert not uri.is_within("ctx://a/users/u2", "ctx://a/users/u")
