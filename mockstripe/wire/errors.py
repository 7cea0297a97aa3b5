"""Stripe-shaped errors: every non-2xx response body is built here."""

from __future__ import annotations

from typing import Any

DOC_URL = "https://stripe.com/docs/error-codes/{}"
REQUEST_LOG_URL = "https://dashboard.stripe.com/test/logs/{}?t={}"


class StripeError(Exception):
    """An error the API returns to the client as `{"error": {...}}`."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        decline_code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}
        self.decline_code = decline_code  # a card error's reason, as the issuer gave it
        # The objects a card error involves: its `charge`, `payment_intent`, `payment_method`.
        self.details = details or {}

    def body(self, request_id: str, now: int) -> dict[str, Any]:
        error = {
            "type": self.type,
            "code": self.code,
            "message": _utf8(self.message),
            "param": _utf8(self.param),
            "doc_url": DOC_URL.format(self.code.replace("_", "-")) if self.code else None,
            "request_log_url": REQUEST_LOG_URL.format(request_id, now),
        }
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        error.update(self.details)
        return {"error": error}

    def v2_body(self) -> dict[str, Any]:
        """The v2 API's envelope: `type`, `code` and `message`, plus `param` when one is at fault
        (the SDK passes it to `InvalidRequestError`); no doc or log links."""
        error: dict[str, Any] = {"type": self.type, "code": self.code, "message": _utf8(self.message)}
        if self.param is not None:
            error["param"] = _utf8(self.param)
        return {"error": error}


def _utf8(text: str | None) -> str | None:
    """Headers and paths reach messages with undecodable bytes as surrogates, which JSON cannot hold."""
    return None if text is None else text.encode("utf-8", "replace").decode("utf-8")


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(message, param=param, code=code)


def no_such(noun: str, object_id: str, param: str, *, status: int = 400) -> StripeError:
    """`resource_missing`: 400 for an id named in the body or query, 404 for one in the path."""
    return StripeError(
        f"No such {noun}: '{object_id}'", status=status, code="resource_missing", param=param
    )


def unrecognized_url(method: str, path: str) -> StripeError:
    return StripeError(
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
        status=404,
    )


def internal_error() -> StripeError:
    return StripeError(
        "An unknown error occurred while processing this request.", status=500, type="api_error"
    )
