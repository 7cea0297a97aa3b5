"""Webhook endpoints (`/v1/webhook_endpoints`): the object, its secret, and what a request may set."""

from __future__ import annotations

import time

import pytest
import stripe

from mockstripe.resources.webhook_endpoints import INVALID_URL, UNKNOWN_EVENT_TYPE

URL = "http://127.0.0.1:4242/webhooks"


def new_endpoint(client: stripe.StripeClient, **params) -> stripe.WebhookEndpoint:
    return client.v1.webhook_endpoints.create({"url": URL, "enabled_events": ["customer.created"], **params})


def test_create_answers_the_secret_once(stripe_client, sdk_fields) -> None:
    before = int(time.time())
    endpoint = new_endpoint(
        stripe_client, enabled_events=["invoice.paid", "customer.subscription.updated"], description="Billing",
        metadata={"team": "billing"},
    )
    assert endpoint.id.startswith("we_1") and len(endpoint.id) == len("we_1Pgc6yB7WZ01zgkWzAudq4eU")
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > len("whsec_") + 20
    assert (endpoint.object, endpoint.url, endpoint.status, endpoint.livemode) == ("webhook_endpoint", URL, "enabled", False)
    assert endpoint.enabled_events == ["invoice.paid", "customer.subscription.updated"]
    assert (endpoint.description, endpoint.metadata.to_dict()) == ("Billing", {"team": "billing"})
    assert (endpoint.api_version, endpoint.application) == (None, None)
    assert before <= endpoint.created <= int(time.time())
    assert set(endpoint.to_dict()) == sdk_fields(stripe.WebhookEndpoint)

    fetched = stripe_client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert "secret" not in fetched.to_dict()
    assert fetched.to_dict() == {k: v for k, v in endpoint.to_dict().items() if k != "secret"}
    assert all("secret" not in e.to_dict() for e in stripe_client.v1.webhook_endpoints.list().data)


def test_each_endpoint_has_its_own_secret(stripe_client) -> None:
    assert new_endpoint(stripe_client).secret != new_endpoint(stripe_client).secret


async def test_create_and_update_through_the_async_client(in_process) -> None:
    endpoints = in_process.client.v1.webhook_endpoints
    endpoint = await endpoints.create_async({"url": URL, "enabled_events": ["*"], "api_version": "2024-06-20"})
    assert (endpoint.enabled_events, endpoint.api_version) == (["*"], "2024-06-20")
    updated = await endpoints.update_async(endpoint.id, {"disabled": True})
    assert updated.status == "disabled"
    assert (await endpoints.retrieve_async(endpoint.id)).status == "disabled"


def test_update_sets_url_events_status_description_and_metadata(stripe_client) -> None:
    endpoints = stripe_client.v1.webhook_endpoints
    endpoint = new_endpoint(stripe_client, metadata={"a": "1", "b": "2"})
    updated = endpoints.update(
        endpoint.id,
        {
            "url": "https://example.com/hooks",
            "enabled_events": ["invoice.finalized", "invoice.paid"],
            "description": "Invoices",
            "metadata": {"a": "", "c": "3"},
            "disabled": True,
        },
    )
    assert (updated.url, updated.enabled_events, updated.description) == (
        "https://example.com/hooks", ["invoice.finalized", "invoice.paid"], "Invoices"
    )
    assert (updated.status, updated.metadata.to_dict()) == ("disabled", {"b": "2", "c": "3"})
    assert "secret" not in updated.to_dict()
    assert endpoints.update(endpoint.id, {"disabled": False}).status == "enabled"
    # An update that names nothing changes nothing.
    assert endpoints.update(endpoint.id).to_dict() == endpoints.retrieve(endpoint.id).to_dict()


def test_list_is_newest_first_and_paginates(stripe_client) -> None:
    endpoints = stripe_client.v1.webhook_endpoints
    first, second, third = (new_endpoint(stripe_client) for _ in range(3))
    page = endpoints.list({"limit": 2})
    assert ([e.id for e in page.data], page.has_more, page.url) == ([third.id, second.id], True, "/v1/webhook_endpoints")
    assert [e.id for e in endpoints.list({"starting_after": second.id}).data] == [first.id]
    assert [e.id for e in endpoints.list({"ending_before": second.id}).data] == [third.id]


def test_delete_leaves_a_stub_and_the_endpoint_is_gone(stripe_client) -> None:
    endpoints = stripe_client.v1.webhook_endpoints
    endpoint = new_endpoint(stripe_client)
    deleted = endpoints.delete(endpoint.id)
    assert deleted.to_dict() == {"id": endpoint.id, "object": "webhook_endpoint", "deleted": True}
    with pytest.raises(stripe.InvalidRequestError) as missing:
        endpoints.retrieve(endpoint.id)
    assert missing.value.http_status == 404
    assert missing.value.user_message == f"No such webhook endpoint: '{endpoint.id}'"
    assert endpoints.list().data == []


def test_another_account_cannot_see_an_endpoint(stripe_client, raw_http, mockstripe_url) -> None:
    endpoint = new_endpoint(stripe_client)
    reply = raw_http(mockstripe_url, "sk_test_someone_else").get(f"/v1/webhook_endpoints/{endpoint.id}")
    assert (reply.status, reply.error["code"], reply.error["param"]) == (404, "resource_missing", "id")


# Bad input: clear 400s, nothing stored.


def test_url_and_enabled_events_are_required(raw) -> None:
    reply = raw.post("/v1/webhook_endpoints", {"enabled_events[]": "*"})
    assert (reply.status, reply.error["code"], reply.error["param"]) == (400, "parameter_missing", "url")
    reply = raw.post("/v1/webhook_endpoints", {"url": URL})
    assert (reply.status, reply.error["code"], reply.error["param"]) == (400, "parameter_missing", "enabled_events")


@pytest.mark.parametrize(
    "events", [["customer.created", "customer.exploded"], ["customer.exploded"], ["invoice.*"]],
    ids=["second", "only", "wildcard-prefix"],
)
def test_an_unknown_event_type_is_a_400_naming_it(raw, events) -> None:
    body = "&".join(f"enabled_events[]={name}" for name in events) + f"&url={URL}"
    reply = raw.post("/v1/webhook_endpoints", body)
    unknown = events[-1]
    assert (reply.status, reply.error["type"], reply.error["param"]) == (400, "invalid_request_error", "enabled_events")
    assert reply.error["message"] == UNKNOWN_EVENT_TYPE.format(unknown)
    assert unknown in reply.error["message"]
    assert raw.get("/v1/webhook_endpoints").body["data"] == []


def test_update_refuses_an_unknown_event_type_and_changes_nothing(stripe_client, raw) -> None:
    endpoint = new_endpoint(stripe_client)
    reply = raw.post(f"/v1/webhook_endpoints/{endpoint.id}", "enabled_events[]=nope.nope&description=changed")
    assert (reply.status, reply.error["param"]) == (400, "enabled_events")
    after = stripe_client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert (after.enabled_events, after.description) == (["customer.created"], None)


@pytest.mark.parametrize(
    "url",
    ["not a url", "example.com/hooks", "ftp://example.com/hooks", "http://", "http://:80/x", "http://host:99999/x",
     "http://exa mple.com/"],
)
def test_a_url_that_is_not_http_is_a_400(raw, url) -> None:
    reply = raw.post("/v1/webhook_endpoints", {"url": url, "enabled_events[]": "*"})
    assert (reply.status, reply.error["param"], reply.error["message"]) == (400, "url", INVALID_URL.format(url))
    assert raw.get("/v1/webhook_endpoints").body["data"] == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hook", "https://example.com/hooks?x=1", "http://localhost/"])
def test_http_and_https_urls_are_accepted(raw, url) -> None:
    reply = raw.post("/v1/webhook_endpoints", {"url": url, "enabled_events[]": "*"})
    assert (reply.status, reply.body["url"]) == (200, url)


def test_update_refuses_a_bad_url(stripe_client, raw) -> None:
    endpoint = new_endpoint(stripe_client)
    reply = raw.post(f"/v1/webhook_endpoints/{endpoint.id}", {"url": "nope"})
    assert (reply.status, reply.error["param"]) == (400, "url")
    assert stripe_client.v1.webhook_endpoints.retrieve(endpoint.id).url == URL


def test_connect_endpoints_are_refused_as_unsupported(raw) -> None:
    reply = raw.post("/v1/webhook_endpoints", {"url": URL, "enabled_events[]": "*", "connect": "true"})
    assert (reply.status, reply.error["param"]) == (400, "connect")
    assert "not supported by mockstripe" in reply.error["message"]
