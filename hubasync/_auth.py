"""Credentials to bearer token: login flows, proactive refresh, single flight.

Pure parts (``jwt_claims``, ``refresh_deadline``, ``login_route``) do no I/O. ``Authenticator``
holds the current token and logs in through a ``send`` callable the client provides, so every
login goes through the same transport (limiter, concurrency slots, session) as other requests.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Final, Literal

import attrs

from ._responses import scrub
from .errors import AuthenticationError, HubError, TwoFactorRequiredError

__all__ = [
    "Authenticator",
    "LoginCall",
    "TokenState",
    "TwoFactorCallable",
    "jwt_claims",
    "login_error",
    "login_route",
    "refresh_deadline",
]

TOKEN_SECRET_PREFIXES: Final = ("dckr_pat_", "dckr_oat_")

#: Logins and token refreshes: INFO when one happens, DEBUG for the steps. Never a secret:
#: only the user name, the route, Hub's status and the token's lifetime.
logger = logging.getLogger("hubasync.auth")

#: A callable (sync or async) returning the current TOTP code.
TwoFactorCallable = Callable[[], "str | Awaitable[str]"]


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT, or ``None`` when ``token`` is not a decodable JWT (opaque)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def refresh_deadline(token: str, received_at: float) -> float | None:
    """Local instant when ``token`` should be refreshed, or ``None`` for an opaque token.

    The lifetime is the JWT's ``exp - iat`` counted from ``received_at`` (so a skewed Hub
    clock does not matter); refresh at the later of 75 % of the lifetime and 60 s before
    expiry: a 10-minute token refreshes after 9 minutes, a 3 s token after 2.25 s.
    """
    claims = jwt_claims(token)
    if claims is None:
        return None
    exp = _number(claims.get("exp"))
    if exp is None:
        return None
    iat = _number(claims.get("iat"))
    lifetime = exp - iat if iat is not None else 600.0
    if lifetime <= 0:
        return received_at
    return received_at + max(0.75 * lifetime, lifetime - 60.0)


def login_route(secret: str) -> Literal["/v2/auth/token", "/v2/users/login"]:
    """PATs and org tokens go to ``/v2/auth/token``; anything else is a password."""
    return "/v2/auth/token" if secret.startswith(TOKEN_SECRET_PREFIXES) else "/v2/users/login"


@attrs.frozen(kw_only=True)
class LoginCall:
    """One unauthenticated POST the authenticator asks the transport to send.

    (Not ``hubasync.models.LoginRequest``, which is the body of ``POST /v2/users/login``.)
    """

    operation: str
    path: str
    body: dict[str, str] = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class TokenState:
    """A bearer token and when to refresh it (``None``: only after a 401)."""

    token: str = attrs.field(repr=False)
    refresh_at: float | None


#: The transport hook: sends a LoginCall and returns (status, decoded JSON body).
LoginSender = Callable[[LoginCall], Awaitable[tuple[int, Any]]]


class Authenticator:
    """Holds the bearer token of one client; logs in lazily, one login at a time."""

    def __init__(
        self,
        *,
        username: str | None,
        secret: str | None,
        token: str | None,
        two_factor: TwoFactorCallable | None,
        clock: Callable[[], float],
    ) -> None:
        self._username = username
        self._secret = secret
        self._two_factor = two_factor
        self._clock = clock
        self._state: TokenState | None = None
        if token is not None:
            self._state = TokenState(token=token, refresh_at=refresh_deadline(token, clock()))
        self._lock: asyncio.Lock | None = None  # created inside the running loop
        self._failure: HubError | None = None
        self._login_2fa_token: str | None = None  # Hub's temporary token of a 2FA login

    def __repr__(self) -> str:
        who = self._username or ("<token>" if self._state else "anonymous")
        return f"<Authenticator {who}>"

    def secrets(self) -> tuple[str, ...]:
        """The credentials this client sends (to scrub from errors): the secret, the
        current bearer token and a 2FA login's temporary token."""
        known = (
            self._secret,
            self._state.token if self._state is not None else None,
            self._login_2fa_token,
        )
        return tuple(s for s in known if s)

    @property
    def has_credentials(self) -> bool:
        """Whether this authenticator can obtain a new token by itself."""
        return self._username is not None and self._secret is not None

    @property
    def is_authenticated(self) -> bool:
        """Whether requests carry a bearer token (credentials or a ready token)."""
        return self.has_credentials or self._state is not None

    def _valid(self) -> TokenState | None:
        state = self._state
        if state is None:
            return None
        if state.refresh_at is not None and self._clock() >= state.refresh_at:
            return None
        return state

    def token_nowait(self) -> tuple[bool, str | None]:
        """``(True, token)`` when the token to send now needs no login (the usual case),
        ``(False, None)`` when :meth:`token` has to log in or refresh first."""
        state = self._valid()
        if state is not None:
            return True, state.token
        if not self.has_credentials:
            # A ready token past its refresh point is still used until Hub refuses it.
            return True, self._state.token if self._state is not None else None
        return False, None

    async def token(self, send: LoginSender) -> str | None:
        """The bearer token to send now (logging in or refreshing first if needed)."""
        ready, token = self.token_nowait()
        if ready:
            return token
        return await self._login_once(send, stale=self._state)

    async def invalidate(self, token: str, send: LoginSender) -> bool:
        """Hub refused ``token`` (401): log in again once. False if no new token can be had."""
        if not self.has_credentials:
            logger.debug("Hub refused the bearer token (401) and no credentials can renew it")
            return False
        if self._state is not None and self._state.token != token:
            return True  # another task already refreshed it
        logger.info("Hub refused the bearer token (401): logging in again once")
        await self._login_once(send, stale=self._state)
        return True

    async def login(self, send: LoginSender) -> None:
        """Log in now (``HubClient.login``); a no-op for a ready token."""
        if self.has_credentials:
            await self._login_once(send, stale=self._state, force=self._state is None)

    async def _login_once(
        self, send: LoginSender, *, stale: TokenState | None, force: bool = False
    ) -> str:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._failure is not None:
                # A failed login is never hammered: every later call gets the same answer.
                logger.debug(
                    "not logging in again as %r: the last login was refused", self._username
                )
                raise self._failure
            current = self._state
            if current is not None and current is not stale and not force:
                return current.token  # someone refreshed while we waited for the lock
            what = "refreshing the token" if current is not None else "logging in"
            route = login_route(self._secret or "")
            logger.info("%s of Docker Hub user %r (%s)", what, self._username, route)
            try:
                token = await self._do_login(send)
            except (AuthenticationError, TwoFactorRequiredError) as exc:
                self._failure = exc
                logger.info(
                    "login of Docker Hub user %r refused (HTTP %s)", self._username, exc.status
                )
                raise
            except HubError as exc:
                logger.info(
                    "login of Docker Hub user %r failed: %s (HTTP %s)",
                    self._username,
                    type(exc).__name__,
                    exc.status,
                )
                raise
            received = self._clock()
            self._state = TokenState(token=token, refresh_at=refresh_deadline(token, received))
            _log_token(self._username, self._state, received)
            return token

    async def _do_login(self, send: LoginSender) -> str:
        assert self._username is not None and self._secret is not None
        route = login_route(self._secret)
        if route == "/v2/auth/token":
            status, body = await send(
                LoginCall(
                    operation="auth.token",
                    path=route,
                    body={"identifier": self._username, "secret": self._secret},
                )
            )
            if (
                status == 200
                and isinstance(body, dict)
                and isinstance(body.get("access_token"), str)
            ):
                return str(body["access_token"])
            raise login_error(
                status, body, self._username, operation="auth.token", secrets=self.secrets()
            )
        status, body = await send(
            LoginCall(
                operation="auth.login",
                path=route,
                body={"username": self._username, "password": self._secret},
            )
        )
        if status == 200 and isinstance(body, dict) and isinstance(body.get("token"), str):
            return str(body["token"])
        second = body.get("login_2fa_token") if isinstance(body, dict) else None
        if status == 401 and isinstance(second, str) and second:
            self._login_2fa_token = second
            return await self._second_factor(send, second)
        raise login_error(status, body, self._username, secrets=self.secrets())

    async def _second_factor(self, send: LoginSender, login_2fa_token: str) -> str:
        if self._two_factor is None:
            raise TwoFactorRequiredError(
                f"the Docker Hub account {self._username!r} has two-factor authentication on: "
                "pass two_factor= (a callable returning the current TOTP code) to HubClient, "
                "or use a personal access token (dckr_pat_…) as the secret",
                status=401,
                operation="auth.login",
            )
        logger.debug("Hub asks for a two-factor code for %r: calling two_factor", self._username)
        code = self._two_factor()
        if inspect.isawaitable(code):
            code = await code
        status, body = await send(
            LoginCall(
                operation="auth.2fa_login",
                path="/v2/users/2fa-login",
                body={"login_2fa_token": login_2fa_token, "code": str(code)},
            )
        )
        if status == 200 and isinstance(body, dict) and isinstance(body.get("token"), str):
            return str(body["token"])
        raise login_error(
            status,
            body,
            self._username,
            second_factor=True,
            operation="auth.2fa_login",
            secrets=self.secrets(),
        )


def _log_token(username: str | None, state: TokenState, received: float) -> None:
    if state.refresh_at is None:
        logger.info("logged in as %r; the token is opaque (renewed after a 401)", username)
    else:
        logger.info(
            "logged in as %r; the token is refreshed in %.0f s",
            username,
            state.refresh_at - received,
        )


def login_error(
    status: int,
    body: Any,
    username: str | None,
    *,
    second_factor: bool = False,
    operation: str = "auth.login",
    secrets: Collection[str] = (),
) -> AuthenticationError:
    """The error for a refused login; credentials (tokens, ``secrets``) are redacted."""
    body = scrub(body, secrets)  # first: the message quotes what is left of it
    detail = body.get("detail") if isinstance(body, dict) else None
    who = f" for Docker Hub user {username!r}" if username else ""
    hub_said = f": Hub said {detail!r}" if isinstance(detail, str) and detail else ""
    if second_factor:
        message = (
            f"{operation}: the two-factor code was refused{who}{hub_said}; check that the "
            "two_factor callable returns the current TOTP code of this account. The failure "
            "is kept (a refused login is never repeated): create a new HubClient to try again"
        )
    else:
        message = (
            f"{operation}: login failed{who}{hub_said}; check the username and secret (a "
            "password, or a personal/organization access token)"
        )
    return AuthenticationError(message, status=status, body=body, operation=operation)
