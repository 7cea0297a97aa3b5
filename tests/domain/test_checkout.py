"""Checkout Sessions in the domain: an open session expires once its `expires_at` has passed."""

from __future__ import annotations

from mockstripe.clock import FrozenClock
from mockstripe.domain import checkout
from mockstripe.store import Account, Change

START = 1_767_225_600  # 2026-01-01T00:00:00Z


def test_an_open_session_expires_at_its_time() -> None:
    changes: list[Change] = []
    clock = FrozenClock(START)
    account = Account(key="sk_test_checkout", clock=clock, recorder=changes.append)
    params = {"mode": "setup", "currency": "usd", "expires_at": START + 3600}
    session = account.create(checkout.new_session(params, [], None, "http://127.0.0.1:12111", START))
    assert (session["expires_at"], session["url"]) == (START + 3600, f"http://127.0.0.1:12111/c/pay/{session['id']}")

    clock.frozen_time = START + 3599
    checkout.expire_due(account, clock.now())
    assert session["status"] == "open"
    clock.frozen_time = START + 3600
    checkout.expire_due(account, clock.now())
    assert (session["status"], session["url"]) == ("expired", None)
    assert [(c.object_type, c.action) for c in changes] == [
        ("checkout.session", "created"), ("checkout.session", "expired"),
    ]
