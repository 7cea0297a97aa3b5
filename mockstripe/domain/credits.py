"""Billing credits: credit grants, their balance transactions, and applying them to invoices.

A grant gives a customer an amount of credit in one currency, usable on invoice lines of metered
prices (`scope.price_type: metered`) or of listed prices, from `effective_at` until `expires_at`,
both in the customer's time (its test clock's, if any). Every change of a grant's remaining amount
is a `billing.credit_balance_transaction`: a credit when granted or given back by a voided
invoice, a debit when applied to an invoice line, expired or voided.

At finalization, credits reduce eligible lines before tax and before the customer's balance,
taking grants by priority (0 first), then earliest expiry (grants without one last), then oldest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..store import Account
from ..wire.ids import new_id
from .taxes import taxed_totals

Obj = dict[str, Any]

GRANT = "billing.credit_grant"
TRANSACTION = "billing.credit_balance_transaction"
DEFAULT_PRIORITY = 50
_NEVER = 2**62


class CreditLedger:
    """One account's remaining credit per grant id: `account.service(CreditLedger)`."""

    def __init__(self) -> None:
        self.remaining: dict[str, int] = {}
        # For each grant, the invoices its credits are applied to (while any are, it cannot be voided).
        self.applied_to: dict[str, set[str]] = {}


def monetary(currency: str, value: int) -> Obj:
    return {"monetary": {"currency": currency, "value": value}, "type": "monetary"}


def customer_now(account: Account, customer_id: str) -> int:
    return account.clock_for(account.find("customer", customer_id)).now()


def grant(account: Account, customer: Obj, params: Obj) -> Obj:
    """Create a grant and its `credits_granted` transaction."""
    now = account.clock_for(customer).now()
    amount = params["amount"]["monetary"]
    scope = params["applicability_config"]["scope"]
    prices = scope.get("prices")
    created = {
        "id": new_id("credgr_test"),
        "object": GRANT,
        "amount": monetary(amount["currency"], amount["value"]),
        "applicability_config": {
            "scope": {
                "price_type": scope.get("price_type"),
                "prices": [{"id": p["id"]} for p in prices] if prices else None,
            }
        },
        "category": params.get("category") or "paid",
        "created": now,
        "customer": customer["id"],
        "customer_account": None,
        "effective_at": params.get("effective_at") or now,
        "expires_at": params.get("expires_at"),
        "livemode": False,
        "metadata": {k: v for k, v in (params.get("metadata") or {}).items() if v is not None},
        "name": params.get("name"),
        "priority": DEFAULT_PRIORITY if params.get("priority") is None else params["priority"],
        "test_clock": customer["test_clock"],
        "updated": now,
        "voided_at": None,
    }
    account.create(created)
    account.service(CreditLedger).remaining[created["id"]] = amount["value"]
    _transaction(account, created, "credit", "credits_granted", amount["value"], created["effective_at"])
    return created


def remaining(account: Account, credit_grant: Obj) -> int:
    return account.service(CreditLedger).remaining.get(credit_grant["id"], 0)


def is_used(account: Account, credit_grant: Obj) -> bool:
    return bool(account.service(CreditLedger).applied_to.get(credit_grant["id"]))


def is_available(credit_grant: Obj, now: int) -> bool:
    """Whether the grant's credits can be used at `now`."""
    expires_at = credit_grant["expires_at"]
    return (
        credit_grant["voided_at"] is None
        and credit_grant["effective_at"] <= now
        and (expires_at is None or now < expires_at)
    )


def expire(account: Account, credit_grant: Obj) -> None:
    """End the grant now; what was left of it is debited as expired."""
    now = customer_now(account, credit_grant["customer"])
    account.update(credit_grant, {"expires_at": now, "updated": now})
    _forfeit(account, credit_grant, "credits_expired", now)


def void(account: Account, credit_grant: Obj) -> None:
    now = customer_now(account, credit_grant["customer"])
    account.update(credit_grant, {"voided_at": now, "updated": now})
    _forfeit(account, credit_grant, "credits_voided", now)


def _forfeit(account: Account, credit_grant: Obj, reason: str, now: int) -> None:
    left = remaining(account, credit_grant)
    if left > 0:
        account.service(CreditLedger).remaining[credit_grant["id"]] = 0
        _transaction(account, credit_grant, "debit", reason, left, now)


def _transaction(
    account: Account, credit_grant: Obj, kind: str, reason: str, value: int, effective_at: int, applied_to: Obj | None = None
) -> Obj:
    amount = monetary(credit_grant["amount"]["monetary"]["currency"], value)
    detail: Obj
    if kind == "credit":
        detail = {"amount": amount, "credits_application_invoice_voided": applied_to, "type": reason}
    else:
        detail = {"amount": amount, "credits_applied": applied_to, "type": reason}
    transaction = {
        "id": new_id("cbtxn_test"),
        "object": TRANSACTION,
        "created": customer_now(account, credit_grant["customer"]),
        "credit": detail if kind == "credit" else None,
        "credit_grant": credit_grant["id"],
        "debit": detail if kind == "debit" else None,
        "effective_at": effective_at,
        "livemode": False,
        "test_clock": credit_grant["test_clock"],
        "type": kind,
    }
    return account.create(transaction)


def applies_to(credit_grant: Obj, price: Obj) -> bool:
    """Whether the grant's scope covers lines of `price`."""
    scope = credit_grant["applicability_config"]["scope"]
    if scope["prices"] is not None:
        return any(p["id"] == price["id"] for p in scope["prices"])
    recurring = price.get("recurring")
    return scope["price_type"] == "metered" and recurring is not None and recurring["usage_type"] == "metered"


def _in_order(account: Account, customer_id: str, currency: str, now: int) -> list[Obj]:
    """The customer's usable grants in `currency`, in the order they are drawn on."""
    usable = [
        g
        for g in reversed(list(account.collection(GRANT).newest_first()))
        if g["customer"] == customer_id
        and g["amount"]["monetary"]["currency"] == currency
        and is_available(g, now)
        and remaining(account, g) > 0
    ]
    return sorted(usable, key=lambda g: (g["priority"], g["expires_at"] if g["expires_at"] is not None else _NEVER))


@dataclass(frozen=True)
class Application:
    """Credit to take from one grant for one invoice line."""

    credit_grant: Obj
    line: Obj
    amount: int


def plan(account: Account, customer_id: str, currency: str, lines: list[Obj], now: int) -> list[Application]:
    """How the customer's credits would cover `lines` at `now`, without taking any."""
    left: dict[str, int] = {}
    applications = []
    grants = _in_order(account, customer_id, currency, now)
    for line in lines:
        details = (line.get("pricing") or {}).get("price_details")
        price = account.find("price", details["price"]) if details else None
        due = line["amount"] - sum(taken["amount"] for taken in line["discount_amounts"])
        if price is None or due <= 0:
            continue
        for credit_grant in grants:
            if due == 0:
                break
            if not applies_to(credit_grant, price):
                continue
            available = left.setdefault(credit_grant["id"], remaining(account, credit_grant))
            taken = min(available, due)
            if taken > 0:
                left[credit_grant["id"]] = available - taken
                due -= taken
                applications.append(Application(credit_grant, line, taken))
    return applications


def _credit_amount(application: Application, transaction: str | None) -> Obj:
    return {
        "amount": application.amount,
        "credit_balance_transaction": transaction,
        "discount": None,
        "type": "credit_balance_transaction",
    }


def apply(account: Account, invoice: Obj, lines: list[Obj], starting_balance: int, now: int) -> Obj:
    """Take the customer's credits for a stored invoice being finalized: debit them, show them on
    its lines; returns the invoice's changed fields (its totals less the credits)."""
    applications = plan(account, invoice["customer"], invoice["currency"], lines, now)
    if not applications:
        return {}
    transactions = take(account, invoice, applications, now)
    amounts = [_credit_amount(a, transactions[i]) for i, a in enumerate(applications)]
    for line in lines:
        mine = [amount for amount, a in zip(amounts, applications, strict=True) if a.line is line]
        if mine:
            account.update(line, {"pretax_credit_amounts": mine})
    return _totals(lines, starting_balance, amounts)


def preview(account: Account, invoice: Obj, lines: list[Obj], now: int) -> None:
    """Show on an invoice never stored (a preview) the credits that would apply to it now."""
    applications = plan(account, invoice["customer"], invoice["currency"], lines, now)
    amounts = [_credit_amount(a, None) for a in applications]
    for amount, application in zip(amounts, applications, strict=True):
        application.line["pretax_credit_amounts"].append(amount)
    if amounts:
        invoice.update(_totals(lines, invoice["starting_balance"], amounts))


def _totals(lines: list[Obj], starting_balance: int, amounts: list[Obj]) -> Obj:
    credited = sum(amount["amount"] for amount in amounts)
    # UNSURE: credits are taken before tax on Stripe; here the lines' taxes stay as computed on the
    # amounts before credits.
    return {**taxed_totals(lines, starting_balance, credited), "total_pretax_credit_amounts": amounts}


def take(account: Account, invoice: Obj, applications: list[Application], now: int) -> dict[int, str]:
    """Debit the planned credits for a finalized invoice; returns each application's transaction id."""
    ledger = account.service(CreditLedger)
    transactions = {}
    for index, application in enumerate(applications):
        credit_grant = application.credit_grant
        ledger.remaining[credit_grant["id"]] -= application.amount
        ledger.applied_to.setdefault(credit_grant["id"], set()).add(invoice["id"])
        applied_to = {"invoice": invoice["id"], "invoice_line_item": application.line["id"]}
        transaction = _transaction(account, credit_grant, "debit", "credits_applied", application.amount, now, applied_to)
        transactions[index] = transaction["id"]
    return transactions


def reinstate(account: Account, invoice: Obj, now: int) -> None:
    """Give back to their grants the credits applied to an invoice being voided, each as a
    `credits_application_invoice_voided` credit; those of a grant past its expiry expire at once."""
    ledger = account.service(CreditLedger)
    for applied in invoice["total_pretax_credit_amounts"]:
        if applied["type"] != "credit_balance_transaction" or applied["credit_balance_transaction"] is None:
            continue
        debit = account.find(TRANSACTION, applied["credit_balance_transaction"])
        credit_grant = account.find(GRANT, debit["credit_grant"]) if debit is not None else None
        if debit is None or credit_grant is None:
            continue
        value = debit["debit"]["amount"]["monetary"]["value"]
        ledger.remaining[credit_grant["id"]] = remaining(account, credit_grant) + value
        ledger.applied_to.get(credit_grant["id"], set()).discard(invoice["id"])
        given_back = dict(debit["debit"]["credits_applied"])
        _transaction(account, credit_grant, "credit", "credits_application_invoice_voided", value, now, given_back)
        expires_at = credit_grant["expires_at"]
        if expires_at is not None and expires_at <= now:
            ledger.remaining[credit_grant["id"]] -= value
            _transaction(account, credit_grant, "debit", "credits_expired", value, now)


def summary(account: Account, customer_id: str, keep: Any, now: int) -> list[Obj]:
    """The customer's credit balances per currency over the grants `keep` accepts."""
    totals: dict[str, int] = {}
    for credit_grant in reversed(list(account.collection(GRANT).newest_first())):
        if credit_grant["customer"] != customer_id or not keep(credit_grant):
            continue
        currency = credit_grant["amount"]["monetary"]["currency"]
        value = remaining(account, credit_grant) if is_available(credit_grant, now) else 0
        totals[currency] = totals.get(currency, 0) + value
    return [
        {"available_balance": monetary(currency, value), "ledger_balance": monetary(currency, value)}
        for currency, value in totals.items()
    ]
