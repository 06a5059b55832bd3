"""Local input checks: bad input never becomes a request."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubasync import _validate as v

HEX64 = "a" * 64


@pytest.mark.parametrize("good", ["library", "my-org", "a1", "my_org.x", "docker"])
def test_good_namespaces_pass_through(good: str) -> None:
    assert v.namespace(good) == good


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("", "must not be empty"),
        ("../etc", "not a valid Docker Hub name"),
        ("a/b", "not a valid Docker Hub name"),
        ("MyOrg", "lowercase"),
        (" org", "whitespace"),
        ("org?x=1", "not a valid"),
        ("a%2e%2e", "not a valid"),
        ("a..b", "not a valid"),
    ],
)
def test_bad_namespaces_are_refused_with_the_rule(bad: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as info:
        v.namespace(bad)
    assert "namespace" in str(info.value)


def test_repository_with_slash_says_how_to_split() -> None:
    with pytest.raises(ValueError, match="two arguments"):
        v.repository("library/nginx")


@pytest.mark.parametrize(
    "good",
    [
        f"sha256:{HEX64}",
        "sha256:1234567890abcdefghijklmnopqrstuvwxyz1234567890abcdefghijklmnopqr",
        f"sha512:{HEX64 * 2}",
    ],
)
def test_digests_accept_hub_forms(good: str) -> None:
    assert v.digest(good) == good.replace(":", "%3A")


@pytest.mark.parametrize(
    "bad",
    [
        "sha256",
        "sha256:abc",
        "../sha256:" + HEX64,
        f"sha256:{HEX64}/x",
        "",
        "md5:" + HEX64[:32],  # not an OCI algorithm
        f"sha512:{HEX64}",  # too short for sha512
        f"sha256:{HEX64 * 2}",  # too long for sha256
    ],
)
def test_malformed_digests_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="digest"):
        v.digest(bad)


def test_uuid_normalised_and_checked() -> None:
    u = uuid.uuid4()
    assert v.token_uuid(str(u).upper()) == str(u)
    assert v.token_uuid(u) == str(u)
    with pytest.raises(ValueError, match="not a UUID"):
        v.token_uuid("../../v2/users")


@pytest.mark.parametrize("bad", [0, 101, -1, True, 10.5])
def test_page_size_out_of_range(bad: object) -> None:
    with pytest.raises(ValueError, match="page_size"):
        v.check_page_size(bad)


@pytest.mark.parametrize("bad", ["", ".hidden", "-x", "a" * 129, "a/b", "a b"])
def test_bad_tags(bad: str) -> None:
    with pytest.raises(ValueError, match="tag"):
        v.tag(bad)


@given(st.text(max_size=40))
def test_no_input_escapes_its_path_segment(text: str) -> None:
    for check in (v.namespace, v.repository, v.tag, v.digest, v.token_uuid):
        try:
            out = check(text)
        except ValueError:
            continue
        assert "/" not in out and "?" not in out and "#" not in out
        assert out not in (".", "..")


def test_an_empty_name_suggests_an_example_of_its_own_kind() -> None:
    with pytest.raises(ValueError, match="such as 'library'"):
        v.namespace("")
    with pytest.raises(ValueError, match="such as 'nginx'"):
        v.repository("")
