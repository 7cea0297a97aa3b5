"""Webhook delivery's books: the signature (Stripe's scheme, HMAC-SHA256 of "{t}.{body}" keyed with the
whole secret) and the failures it keeps track of."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
import stripe

from mockstripe.domain import webhooks
from mockstripe.domain.webhooks import DeliveryLog, Outcome, Signer, Target, new_secret
from mockstripe.store import Account


@pytest.mark.parametrize("secret", [new_secret(), "whsec_" + "k" * 100, "whsec_é"], ids=["usual", "longer than a block", "non-ascii"])
@pytest.mark.parametrize("body", [b"", b'{"id":"evt_1","object":"event"}', b"x" * 5000])
def test_the_header_is_stripes_hmac(secret, body) -> None:
    header = Signer(secret).header(1_700_000_000, body)
    expected = hmac.new(secret.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_the_sdk_verifies_a_fresh_signature() -> None:
    secret = new_secret()
    body = b'{"id":"evt_1","object":"event","type":"customer.created","data":{"object":{}}}'
    header = Signer(secret).header(int(time.time()), body)
    assert stripe.Webhook.construct_event(body.decode(), header, secret).id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.decode(), header, new_secret())


def test_failures_of_events_no_longer_kept_are_forgotten(monkeypatch) -> None:
    monkeypatch.setattr(webhooks, "MAX_EVENTS_KEPT", 3)
    account = Account(key="sk_test_failing")
    log = account.service(DeliveryLog)
    target = Target(account, "we_1", "we_1")
    kept = {"id": "evt_kept", "object": "event", "type": "customer.created", "pending_webhooks": 1}
    account.collection("event").add(kept)
    failed = Outcome(500, None, 1.0)
    for event in [kept, *({"id": f"evt_gone{i}", "type": "customer.created", "pending_webhooks": 1} for i in range(4))]:
        log.record(target, event, "http://127.0.0.1:9/", 1, failed, 0, None)
    assert "evt_kept" in log.failing and len(log.failing) <= 3
