"""The raw login endpoints, for callers who want the token itself.

``HubClient`` logs in by itself (``hub.login()`` or lazily); these methods only return what
Hub answers and do not change the client's own token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, Protocol, TypeVar

from .._validate import check_text
from ..errors import HubError, TwoFactorRequiredError
from ..models.auth import LoginResult, TokenResponse
from ._base import Requester, Resource

__all__ = ["Auth", "LoginFailed", "SendLogin"]

T = TypeVar("T")


class SendLogin(Protocol):
    """POSTs a login body (operation, path, body) without a bearer token, with a view's
    settings; a 4xx answer comes back as ``(status, body)`` instead of being raised."""

    def __call__(
        self,
        operation: str,
        path: str,
        body: Mapping[str, str],
        *,
        timeout: float | None = ...,
        max_retries: int | None = ...,
        max_wait: float | None = ...,
    ) -> Awaitable[tuple[int, Any]]: ...


#: The error for a refused login: (operation, status, body, credentials sent to redact).
LoginFailed = Callable[[str, int, Any, Collection[str]], HubError]


class Auth(Resource):
    """``/v2/users/login``, ``/v2/users/2fa-login`` and ``/v2/auth/token``."""

    def __init__(
        self, requester: Requester, *, send_login: SendLogin, login_failed: LoginFailed
    ) -> None:
        super().__init__(requester)
        self._send_login = send_login
        self._login_failed = login_failed

    async def _exchange(self, operation: str, path: str, body: dict[str, str]) -> tuple[int, Any]:
        r = self._requester  # a with_options view's settings reach the login too
        return await self._send_login(
            operation, path, body, timeout=r.timeout, max_retries=r.max_retries, max_wait=r.max_wait
        )

    def _result(
        self, operation: str, status: int, data: Any, cls: type[T], sent: dict[str, str]
    ) -> T:
        if status == 200:
            return self._structure(data, cls, operation, status)
        # what was sent (a password, a PAT, a 2FA token) never comes back in the error
        raise self._login_failed(operation, status, data, sent.values())

    async def login(self, username: str, password: str) -> LoginResult:
        """Exchange a username and password (or PAT) for a JWT.

        Raises ``TwoFactorRequiredError`` (with ``.body["login_2fa_token"]``) when the account
        needs a second factor: pass that token to ``two_factor_login``.
        """
        body = {
            "username": check_text(username, "username"),
            "password": check_text(password, "password"),
        }
        status, data = await self._exchange("auth.login", "/v2/users/login", body)
        second = data.get("login_2fa_token") if isinstance(data, dict) else None
        if status == 401 and isinstance(second, str) and second:
            raise TwoFactorRequiredError(
                f"auth.login: the account {username!r} needs a second factor; call "
                "auth.two_factor_login(error.body['login_2fa_token'], code)",
                status=401,
                body={"login_2fa_token": second},
                operation="auth.login",
            )
        return self._result("auth.login", status, data, LoginResult, body)

    async def two_factor_login(self, login_2fa_token: str, code: str) -> LoginResult:
        """Complete a 2FA login with the intermediate token and the TOTP code."""
        body = {
            "login_2fa_token": check_text(login_2fa_token, "login_2fa_token"),
            "code": check_text(code, "code"),
        }
        status, data = await self._exchange("auth.2fa_login", "/v2/users/2fa-login", body)
        return self._result("auth.2fa_login", status, data, LoginResult, body)

    async def token(self, identifier: str, secret: str) -> TokenResponse:
        """Exchange a username or org name and a PAT/OAT (or password) for a JWT."""
        body = {
            "identifier": check_text(identifier, "identifier"),
            "secret": check_text(secret, "secret"),
        }
        status, data = await self._exchange("auth.token", "/v2/auth/token", body)
        return self._result("auth.token", status, data, TokenResponse, body)
