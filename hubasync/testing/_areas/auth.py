"""Logins: ``/v2/users/login`` (password, 2FA aware; PAT/OAT), ``/v2/users/2fa-login``
and ``/v2/auth/token``."""

from __future__ import annotations

import math

from aiohttp import web

from .._http import (
    HubHTTPError,
    bad_request,
    detail,
    json_response,
)
from .._jwt import decode_jwt, encode_jwt
from .._state import (
    Pat,
)
from ._base import Area

__all__ = ["AuthArea"]

_BAD_CREDENTIALS = "Incorrect authentication credentials"
_MFA_REQUIRED = "Require secondary authentication on MFA enabled account"
_SECOND_FACTOR_LIFETIME = 300


class AuthArea(Area):
    """Logins: password (2FA aware), PAT or OAT; ``/v2/auth/token``."""

    def routes(self, app: web.Application) -> None:
        """Register this area's operations."""
        self.add(app, "POST", "/v2/users/login", self.login)
        self.add(app, "POST", "/v2/users/2fa-login", self.login_2fa)
        self.add(app, "POST", "/v2/auth/token", self.auth_token)

    async def login(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/users/login: password (2FA aware), PAT or OAT → ``{token}``."""
        body = self.api._body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise bad_request("username and password are required strings", "username")
        now = self.now()
        user = self.state.users.get(username)
        if user is not None and password == user.password:
            if user.totp is not None:
                raise HubHTTPError(
                    401, {"detail": _MFA_REQUIRED, "login_2fa_token": self._issue_2fa(username)}
                )
            return json_response(200, {"token": self.api.issue(username, "user", None)})
        token = self._usable_token(username, password, now)
        if token is not None:
            return json_response(200, {"token": self._issue_for(token)})
        raise HubHTTPError(401, {"detail": _BAD_CREDENTIALS})

    async def login_2fa(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/users/2fa-login: the login_2fa_token plus the TOTP code → ``{token}``."""
        body = self.api._body(request)
        pending, code = body.get("login_2fa_token"), body.get("code")
        if not isinstance(pending, str) or not isinstance(code, str | int):
            raise bad_request("login_2fa_token and code are required", "code")
        try:
            payload = decode_jwt(pending, self.api.key)
        except ValueError:
            raise HubHTTPError(401, {"detail": _BAD_CREDENTIALS}) from None
        exp = payload.get("exp")
        user = self.state.users.get(str(payload.get("sub")))
        if (
            payload.get("typ") != "2fa"
            or not isinstance(exp, int | float)
            or self.now() >= exp
            or user is None
            or user.totp is None
            or str(code) != user.totp
        ):
            raise HubHTTPError(401, {"detail": _BAD_CREDENTIALS})
        return json_response(200, {"token": self.api.issue(user.username, "user", None)})

    async def auth_token(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/auth/token: ``{identifier, secret}`` (password, PAT or OAT) → JWT."""
        body = self.api._body(request)
        identifier, secret = body.get("identifier"), body.get("secret")
        if not isinstance(identifier, str) or not isinstance(secret, str):
            raise bad_request("identifier and secret are required strings", "identifier")
        now = self.now()
        token = self._usable_token(identifier, secret, now)
        if token is not None:
            return json_response(200, {"access_token": self._issue_for(token)})
        user = self.state.users.get(identifier)
        if user is not None and secret == user.password:
            if user.totp is not None:
                raise detail(
                    401,
                    "Two-factor authentication is enabled for this account: "
                    "use a personal access token.",
                )
            return json_response(200, {"access_token": self.api.issue(identifier, "user", None)})
        raise detail(401, _BAD_CREDENTIALS)

    def _usable_token(self, owner: str, secret: str, now: float) -> Pat | None:
        token = self.state.by_secret.get(secret)
        if token is None or token.owner != owner or not token.usable(now):
            return None
        token.last_used = now
        return token

    def _issue_for(self, token: Pat) -> str:
        return self.api.issue(token.owner, "user" if token.kind == "pat" else "org", token.scopes)

    def _issue_2fa(self, username: str) -> str:
        iat = math.floor(self.now())
        payload = {
            "sub": username,
            "iat": iat,
            "exp": iat + _SECOND_FACTOR_LIFETIME,
            "jti": self.state.new_uuid(),
            "typ": "2fa",
        }
        return encode_jwt(payload, self.api.key)
