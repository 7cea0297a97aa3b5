"""The guide's cURL calls, run verbatim with the real `curl` against mockstripe."""

from __future__ import annotations

import shutil

from conformance.curlflow import GUIDE, parse, reset_account, run
from conformance.promises import GuideResponses, assert_guide_promises
from conformance.shapes import ShapeChecker

CALLS = parse(GUIDE.read_text())
TITLES = [
    "1. Create a meter",
    "2. Create a pricing model",
    "3. Create a customer",
    "4. Create a subscription",
    "5. Send a test meter event",
    "6. Create a preview invoice",
    "Optional: Retrieve usage for a custom time period",
]


def test_the_file_holds_the_guides_calls_in_order() -> None:
    assert [call.title for call in CALLS] == TITLES
    assert {call.api_key for call in CALLS} == {"sk_test_BQokikJOvBiI2HlWgH4olfQ2"}
    assert all(call.args[call.args.index("-u") + 1] == "sk_test_BQokikJOvBiI2HlWgH4olfQ2:" for call in CALLS)
    price = CALLS[1].args
    assert "recurring[meter]={{METER_ID}}" in price and "product_data[name]=Alpaca AI tokens" in price
    assert CALLS[4].args[-2:] == ("-d", "payload[value]=25")
    assert CALLS[6].args[:2] == ("-G", "$STRIPE_API/v1/billing/meters/{{METER_ID}}/event_summaries")


def test_the_guide_runs_verbatim_with_curl(mockstripe_url: str, shapes: ShapeChecker) -> None:
    assert shutil.which("curl"), "the curl binary is needed: apt-get install curl"
    reset_account(mockstripe_url, CALLS[0].api_key)  # the guide's key is the same on every run

    replies = run(CALLS, mockstripe_url)

    last = replies[-1]
    assert [r.status for r in replies] == [200] * len(CALLS), f"{last.call.title}: {last.status} {last.body}"
    for reply in replies:
        # as written, but for the host and the placeholders
        for sent, written in zip(reply.command[1:], reply.call.args, strict=True):
            assert sent == written or written.startswith("$STRIPE_API") or "{{" in written
        assert shapes.check(reply.body) == [], reply.call.title
    assert_guide_promises(GuideResponses(*(reply.body for reply in replies)))
