"""The webhook signature: Stripe's scheme, HMAC-SHA256 of "{t}.{body}" keyed with the whole secret."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
import stripe

from mockstripe.domain.webhooks import Signer, new_secret


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
