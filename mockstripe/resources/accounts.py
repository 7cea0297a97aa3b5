"""The caller's own account: `GET /v1/account` and `GET /v1/accounts/{account}`.

Clients read it before anything else (to learn the account id, its country and currency). Every
secret key is its own account: its id is derived from the key (`Account.own_id`), so it stays the
same across restarts, and it is a test-mode account ready to take payments.
"""

from __future__ import annotations

from typing import Any

from ..routing import Area, Call, Endpoint
from ..wire.errors import no_such
from ..wire.params import endpoint
from ..wire.spec import complete_object

Obj = dict[str, Any]

# UNSURE: the settings of an account nobody configured; those of a US test account, activated.
COUNTRY = "US"
DEFAULT_CURRENCY = "usd"
ACTIVE = ("card_payments", "transfers")
NEWER_CAPABILITIES = ("blik_recurring_payments", "paypay_payments", "sequra_payments", "wero_payments")


class Opened:
    """When the account was first used: its `created`."""

    def __init__(self) -> None:
        self.at: int | None = None


def own_account(call: Call) -> Obj:
    account = call.account
    opened = account.service(Opened)
    if opened.at is None:
        opened.at = account.now()
    obj = complete_object("account")
    obj["capabilities"] = {name: "active" if name in ACTIVE else "inactive" for name in obj["capabilities"]}
    nothing_due: dict[str, Any] = {key: [] if isinstance(value, list) else None for key, value in obj["requirements"].items()}
    obj.update(
        id=account.own_id,
        business_type=None,
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        country=COUNTRY,
        default_currency=DEFAULT_CURRENCY,
        created=opened.at,
        email=None,
        requirements=nothing_due,
        future_requirements={**nothing_due},
    )
    # Fields newer than the spec the table comes from, which the SDK declares.
    obj["business_profile"].update(monthly_estimated_revenue=None, specified_commercial_transactions_act_url=None)
    obj["capabilities"].update(dict.fromkeys(NEWER_CAPABILITIES, "inactive"))
    obj["company"] = None
    settings = obj["settings"]
    settings.update(paypay_payments=None, treasury=None)
    settings["card_issuing"]["tos_acceptance"]["user_agent"] = None
    settings["payouts"]["schedule"].update(
        monthly_anchor=None, monthly_payout_days=None, weekly_anchor=None, weekly_payout_days=None
    )
    settings["sepa_debit_payments"]["creditor_id"] = None
    obj["external_accounts"]["url"] = f"/v1/accounts/{account.own_id}/external_accounts"
    return obj


def retrieve(call: Call) -> Obj:
    wanted = call.path_params["account"]
    if wanted != call.account.own_id:
        # UNSURE: another account (no Connect here) is simply unknown to this key.
        raise no_such("account", wanted, "account", status=404)
    return own_account(call)


AREA = Area(
    name="accounts",
    types=(),
    endpoints=(
        Endpoint("GET", "/v1/account", own_account, endpoint(), "Retrieve the key's own account", returns="account"),
        Endpoint(
            "GET", "/v1/accounts/{account}", retrieve, endpoint(), "Retrieve the key's own account by its id", returns="account"
        ),
    ),
)
