"""Minimal HS256 JWTs (header.payload.signature, base64url, HMAC-SHA256) for FakeHub."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

__all__ = ["decode_jwt", "encode_jwt"]

_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode("ascii")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_jwt(payload: dict[str, Any], key: bytes) -> str:
    """Return a compact HS256 JWT for ``payload`` signed with ``key``."""
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    signing_input = f"{_HEADER}.{body}".encode("ascii")
    signature = hmac.new(key, signing_input, hashlib.sha256).digest()
    return f"{_HEADER}.{body}.{_b64(signature)}"


def decode_jwt(token: str, key: bytes) -> dict[str, Any]:
    """Verify ``token``'s HS256 signature and return its payload; ValueError if invalid.

    Expiry is not checked here (the caller compares ``exp`` with its own clock).
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    header_b64, body_b64, sig_b64 = parts
    try:
        header = json.loads(_unb64(header_b64))
        signature = _unb64(sig_b64)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("malformed JWT") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise ValueError("unsupported JWT algorithm")
    expected = hmac.new(key, f"{header_b64}.{body_b64}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise ValueError("bad JWT signature")
    try:
        payload = json.loads(_unb64(body_b64))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("malformed JWT payload") from exc
    if not isinstance(payload, dict):
        raise ValueError("JWT payload is not an object")
    return payload
