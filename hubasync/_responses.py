"""Response deciphering as pure functions: body decoding and status → typed error.

No I/O here (in the spirit of gidgethub's ``sansio``): the transport hands in the status,
the raw body and the content type, and gets back JSON or the ``HubError`` to raise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from .errors import (
    AuthenticationError,
    BadRequestError,
    HubError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
)

__all__ = [
    "decode_json",
    "error_for_status",
    "hub_detail",
    "hub_txnid",
    "redact",
    "scrub",
    "scrub_error",
]

_ANON_PAGING = "pagination offset too large"
# Access tokens and JWTs: a broken login or token-create answer may carry one in its text.
_SECRET = re.compile(
    r"dckr_(?:pat|oat)_[A-Za-z0-9_-]+|eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
)


#: Body keys whose values are credentials, whatever they look like.
_SECRET_KEYS = frozenset(
    {"token", "access_token", "refresh_token", "login_2fa_token", "password", "secret"}
)
#: Shorter known secrets are not searched for in text: replacing a short word everywhere
#: would mangle the text and, worse, show which word the secret is.
_MIN_SECRET = 6
#: Messages are composed from bodies already scrubbed; the pass over a finished message is a
#: safety net that must not hit the message's own words ("username and secret").
_MIN_SECRET_IN_MESSAGE = 8


def _forms(secret: str) -> list[str]:
    """A secret as it may appear in text: plain, escaped by ``repr`` (a message quoting Hub's
    detail with ``!r``), escaped by JSON (a text body echoing a JSON request)."""
    forms = [secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]]
    return list(dict.fromkeys(forms))


def redact(text: str, secrets: Collection[str] = (), *, min_len: int = _MIN_SECRET) -> str:
    """``text`` with access tokens, JWTs and the given ``secrets`` replaced by ``<redacted>``."""
    for secret in secrets:
        if len(secret) >= min_len:
            for form in _forms(secret):
                if form in text:
                    text = text.replace(form, "<redacted>")
    return _SECRET.sub("<redacted>", text)


def scrub(value: Any, secrets: Collection[str] = ()) -> Any:
    """A decoded body with every credential removed: values under credential keys, access
    tokens and JWTs anywhere, and the literal ``secrets`` (a password echoed back)."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {
            k: "<redacted>" if k in _SECRET_KEYS else scrub(v, secrets) for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    return value


def scrub_error(exc: HubError, secrets: Collection[str]) -> HubError:
    """``exc`` with credentials removed from its message, arguments, body and fields.

    Hub (or a proxy) may echo a request back in an error: the password, the access token or
    the 2FA token sent must not reach the caller's logs through the exception.
    """
    short = _MIN_SECRET_IN_MESSAGE
    exc.message = redact(exc.message, secrets, min_len=short)
    exc.args = tuple(
        redact(a, secrets, min_len=short) if isinstance(a, str) else a for a in exc.args
    )
    exc.body = scrub(exc.body, secrets)
    fields = getattr(exc, "fields", None)
    if isinstance(fields, dict):
        exc.fields = {  # type: ignore[attr-defined]
            k: [redact(v, secrets) for v in vs] for k, vs in fields.items()
        }
    return exc


_MAX_QUOTED = 300


def decode_json(body: bytes, *, operation: str, status: int) -> Any:
    """Decode a complete JSON body; empty → ``None``; anything else → ResponseValidationError."""
    try:
        text = body.decode()  # Hub's JSON is UTF-8; a str skips json's encoding sniffing
        if not text or text.isspace():
            return None
        return json.loads(text)
    except (ValueError, UnicodeDecodeError):
        pass  # raised below, outside the handler: the decode error (its .doc is the whole
        # body, credentials included) must not ride along as __context__
    text = redact(body.decode("utf-8", "replace"))
    raise ResponseValidationError(
        f"{operation}: Hub answered {status} with a body that is not JSON "
        f"(starts {text[:120]!r}); this is a Hub or proxy fault, try again later",
        status=status,
        body=text[:2000],
        operation=operation,
    )


def decode_error_body(body: bytes) -> Any:
    """Best-effort decoding of an error body: JSON if it parses, else the text."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return redact(body.decode("utf-8", "replace")[:2000])


def hub_detail(body: Any) -> str | None:
    """What Hub said, from any of its error shapes (detail, message, text, plain text)."""
    if isinstance(body, dict):
        for key in ("detail", "message", "text", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:_MAX_QUOTED]
        errinfo = body.get("errinfo")
        if isinstance(errinfo, dict):
            return hub_detail(errinfo)
        return None
    if isinstance(body, str) and body.strip():
        text = body.strip()
        if text.lstrip().startswith("<"):
            return None  # an HTML error page says nothing useful
        return text[:_MAX_QUOTED]
    return None


def hub_txnid(body: Any) -> str | None:
    """Hub's transaction id, when the error body carries one."""
    if isinstance(body, dict):
        for key in ("txnid", "api_call_txnid"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        errinfo = body.get("errinfo")
        if isinstance(errinfo, dict):
            return hub_txnid(errinfo)
    return None


def _fields(body: Any) -> dict[str, list[str]]:
    if not isinstance(body, dict):
        return {}
    raw = body.get("fields")
    if raw is None and isinstance(body.get("errinfo"), dict):
        raw = body["errinfo"].get("fields")
    if not isinstance(raw, dict):
        return {}
    out: dict[str, list[str]] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            out[str(key)] = [str(v) for v in value]
        else:
            out[str(key)] = [str(value)]
    return out


def error_for_status(
    status: int,
    body: Any,
    *,
    operation: str,
    authenticated: bool,
    can_login: bool = True,
    retry_at: float | None = None,
    request_token: bool = False,
) -> HubError:
    """The typed error for a non-2xx answer, with a message a person can act on.

    ``request_token``: the request carried a bearer token of its own (e.g. SCIM's), not the
    client's.
    """
    said = hub_detail(body)
    hub_said = f"; Hub said {said!r}" if said else ""
    common: dict[str, Any] = {
        "status": status,
        "txnid": hub_txnid(body),
        "body": body,
        "operation": operation,
    }
    if status == 401:
        if request_token:
            hint = (
                "the bearer token given for this request was refused (expired, revoked, or "
                "not one this endpoint accepts); pass a valid one"
            )
        elif not authenticated:
            hint = (
                "this operation needs credentials: pass username= and secret= (or token=) "
                "to HubClient, or set DOCKERHUB_USERNAME/DOCKERHUB_TOKEN for "
                "HubClient.from_env()"
            )
        elif can_login:
            hint = "the token was refused even after logging in again; check the credentials"
        else:
            hint = (
                "the token passed as token= was refused (expired or revoked) and this client "
                "cannot log in by itself; pass a fresh token=, or username= and secret= so "
                "hubasync logs in and refreshes as needed"
            )
        return AuthenticationError(f"{operation}: not authenticated{hub_said}; {hint}", **common)
    if status == 403:
        if said and _ANON_PAGING in said.lower():
            return PermissionDeniedError(
                f"{operation}: Docker Hub refuses anonymous paging past item 1000{hub_said}; "
                "authenticate (username= and secret=, or token=) to page further, or stop "
                "earlier with to_list(limit=...)",
                **common,
            )
        return PermissionDeniedError(
            f"{operation}: permission denied{hub_said}; the account may not access this "
            "namespace or repository, or the token lacks the needed scope",
            **common,
        )
    if status == 404:
        return NotFoundError(
            f"{operation}: not found{hub_said}; check the namespace, repository and other "
            "names (Hub answers 404 also for private repositories you cannot see)",
            **common,
        )
    if status == 429:
        return RateLimitError(
            f"{operation}: rate limited by Docker Hub{hub_said}; wait for the limit to reset, "
            "raise max_wait, or lower the request rate",
            retry_at=retry_at,
            **common,
        )
    if status in (400, 409, 422):
        kind = {400: "bad request", 409: "conflict", 422: "unprocessable request"}[status]
        return BadRequestError(
            f"{operation}: Hub rejected the request ({kind}){hub_said}; fix the arguments "
            "and try again",
            fields=_fields(body),
            **common,
        )
    if status >= 500:
        return ServerError(
            f"{operation}: Docker Hub failed with HTTP {status}{hub_said}; this is on Hub's "
            "side, try again later",
            **common,
        )
    return HubError(f"{operation}: unexpected HTTP {status} from Docker Hub{hub_said}", **common)
