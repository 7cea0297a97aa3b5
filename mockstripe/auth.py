"""API keys: which account a request acts for, and Stripe's 401s when it cannot be told."""

from __future__ import annotations

import base64
import re

from .wire.errors import StripeError

_TEST_KEY = re.compile(r"(sk|rk)_test_[A-Za-z0-9_]+")  # fullmatch: `$` would allow a trailing newline

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, "
    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
)
PUBLISHABLE_KEY = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. "
    "You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)
LIVE_KEY = (
    "Invalid API Key provided: {}. mockstripe is a test server and accepts only test mode keys "
    "(sk_test_... or rk_test_...)."
)
INVALID_KEY = "Invalid API Key provided: {}"


def unauthorized(message: str) -> StripeError:
    return StripeError(message, status=401)


def mask(key: str) -> str:
    """`sk_test_abcdef1234` -> `sk_test_******1234`, as Stripe shows keys in errors."""
    prefix = key[: key.find("_", 3) + 1] if key.startswith(("sk_", "rk_", "pk_")) else ""
    hidden = max(len(key) - len(prefix) - 4, 0)
    return prefix + "*" * hidden + key[len(prefix) + hidden :]


def bearer_token(header: str | None) -> str:
    """The token in `Authorization: Bearer <token>` or HTTP Basic `<token>:`."""
    if not header:
        raise unauthorized(NO_KEY)
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return credentials
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except ValueError:  # bad base64 (binascii.Error), non-ASCII header text, or not UTF-8
            raise unauthorized(INVALID_KEY.format(mask(credentials))) from None
        user = decoded.partition(":")[0]
        if user:
            return user
        raise unauthorized(NO_KEY)
    raise unauthorized(INVALID_KEY.format(mask(credentials or scheme)))


def secret_key(header: str | None) -> str:
    """The test-mode secret or restricted key the request authenticates with."""
    key = bearer_token(header)
    if _TEST_KEY.fullmatch(key):
        return key
    if key.startswith("pk_"):
        raise unauthorized(PUBLISHABLE_KEY)
    if key.startswith(("sk_live_", "rk_live_")):
        raise unauthorized(LIVE_KEY.format(mask(key)))
    raise unauthorized(INVALID_KEY.format(mask(key)))
