"""Status → typed error, from recorded Hub bodies."""

from __future__ import annotations

import pytest

from hubasync import errors
from hubasync._responses import decode_json, error_for_status, hub_detail, hub_txnid

RECORDED = {
    "detail": {"detail": "Object not found"},
    "message": {"txnid": "t-1", "message": "denied", "errinfo": {"api_call_txnid": "t-1"}},
    "fields": {"fields": {"scopes": ["invalid scope"]}, "text": "bad input"},
    "html": "<html><body>502 Bad Gateway</body></html>",
    "plain": "Too Many Requests (HAP429).",
}


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, RECORDED["fields"], errors.BadRequestError),
        (409, RECORDED["detail"], errors.BadRequestError),
        (422, RECORDED["detail"], errors.BadRequestError),
        (401, RECORDED["detail"], errors.AuthenticationError),
        (403, RECORDED["message"], errors.PermissionDeniedError),
        (404, RECORDED["detail"], errors.NotFoundError),
        (429, RECORDED["plain"], errors.RateLimitError),
        (500, RECORDED["html"], errors.ServerError),
        (503, None, errors.ServerError),
        (418, None, errors.HubError),
    ],
)
def test_status_maps_to_typed_error(status: int, body: object, cls: type[errors.HubError]) -> None:
    err = error_for_status(status, body, operation="images.list", authenticated=True)
    assert type(err) is cls
    assert err.status == status
    assert err.body == body
    assert "images.list" in str(err)


def test_fields_and_txnid_are_kept() -> None:
    err = error_for_status(400, RECORDED["fields"], operation="x", authenticated=True)
    assert isinstance(err, errors.BadRequestError)
    assert err.fields == {"scopes": ["invalid scope"]}
    assert hub_txnid(RECORDED["message"]) == "t-1"
    assert hub_detail(RECORDED["html"]) is None
    assert hub_detail(RECORDED["plain"]) == "Too Many Requests (HAP429)."


def test_anonymous_paging_403_says_to_authenticate() -> None:
    body = {"detail": "pagination offset too large for anonymous requests"}
    err = error_for_status(403, body, operation="repositories.list", authenticated=False)
    assert isinstance(err, errors.PermissionDeniedError)
    assert "authenticate" in err.message


def test_unauthenticated_401_says_how_to_pass_credentials() -> None:
    err = error_for_status(401, None, operation="access_tokens.list", authenticated=False)
    assert "username=" in err.message


def test_decode_json_refuses_non_json() -> None:
    assert decode_json(b"", operation="x", status=200) is None
    assert decode_json(b'{"a": 1}', operation="x", status=200) == {"a": 1}
    with pytest.raises(errors.ResponseValidationError, match="not JSON"):
        decode_json(b"<html>", operation="x", status=200)
