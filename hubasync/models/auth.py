"""Models of the authentication endpoints. Secrets never appear in a ``repr``."""

from __future__ import annotations

import attrs

__all__ = [
    "AuthTokenRequest",
    "LoginFailure",
    "LoginRequest",
    "LoginResult",
    "TokenResponse",
    "TwoFactorLoginRequest",
]


@attrs.frozen(kw_only=True)
class LoginRequest:
    """The body of ``POST /v2/users/login``.

    Attributes:
        username: the Docker Hub username.
        password: the password or personal access token.
    """

    username: str
    password: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class TwoFactorLoginRequest:
    """The body of ``POST /v2/users/2fa-login``.

    Attributes:
        login_2fa_token: the short-lived token the first login step returned.
        code: the current TOTP code.
    """

    login_2fa_token: str = attrs.field(repr=False)
    code: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class AuthTokenRequest:
    """The body of ``POST /v2/auth/token``.

    Attributes:
        identifier: a username (password or PAT) or an organization name (org token).
        secret: the password, personal access token or organization access token.
    """

    identifier: str
    secret: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class LoginResult:
    """A successful answer of ``/v2/users/login`` or ``/v2/users/2fa-login``.

    Attributes:
        token: the bearer JWT for the ``Authorization`` header.
    """

    token: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class TokenResponse:
    """A successful answer of ``POST /v2/auth/token``.

    Attributes:
        access_token: the bearer JWT (Hub says it lasts 10 minutes).
    """

    access_token: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class LoginFailure:
    """The 401 body of a login: failed, or waiting for a second factor.

    Attributes:
        detail: Hub's description of the failure.
        login_2fa_token: present when the account has 2FA: pass it to ``2fa-login``
            with the TOTP code.
    """

    detail: str | None = None
    login_2fa_token: str | None = attrs.field(default=None, repr=False)
