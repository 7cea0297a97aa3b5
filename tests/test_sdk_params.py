"""Every parameter the official SDK can send to an endpoint is declared in that endpoint's spec.

A declared parameter is either implemented or an explicit `Unsupported()` with a clear 400, so an
SDK user never meets a surprise `parameter_unknown`. Adding a `/v1` endpoint means adding its row.
"""

from __future__ import annotations

import importlib

import pytest
from stripe._request_options import RequestOptions

from mockstripe.app import default_areas
from mockstripe.routing import Endpoint

# (method, path) -> the `stripe.params` TypedDict the SDK sends to it (dotted below `stripe.params`),
# or None for an endpoint the SDK has no params class for (say why in a comment).
SDK_PARAMS: dict[tuple[str, str], str | None] = {
    ("POST", "/v1/customers"): "CustomerCreateParams",
    ("GET", "/v1/customers"): "CustomerListParams",
    ("GET", "/v1/customers/{id}"): "CustomerRetrieveParams",
    ("POST", "/v1/customers/{id}"): "CustomerUpdateParams",
    ("DELETE", "/v1/customers/{id}"): "CustomerDeleteParams",
    ("POST", "/v1/products"): "ProductCreateParams",
    ("GET", "/v1/products"): "ProductListParams",
    ("GET", "/v1/products/{id}"): "ProductRetrieveParams",
    ("POST", "/v1/products/{id}"): "ProductUpdateParams",
    ("DELETE", "/v1/products/{id}"): "ProductDeleteParams",
    ("POST", "/v1/prices"): "PriceCreateParams",
    ("GET", "/v1/prices"): "PriceListParams",
    ("GET", "/v1/prices/{price}"): "PriceRetrieveParams",
    ("POST", "/v1/prices/{price}"): "PriceUpdateParams",
    ("POST", "/v1/billing/meters"): "billing.MeterCreateParams",
    ("GET", "/v1/billing/meters"): "billing.MeterListParams",
    ("GET", "/v1/billing/meters/{id}"): "billing.MeterRetrieveParams",
    ("POST", "/v1/billing/meters/{id}"): "billing.MeterUpdateParams",
    ("POST", "/v1/billing/meters/{id}/deactivate"): "billing.MeterDeactivateParams",
    ("POST", "/v1/billing/meters/{id}/reactivate"): "billing.MeterReactivateParams",
    ("GET", "/v1/billing/meters/{id}/event_summaries"): "billing.MeterEventSummaryListParams",
    ("POST", "/v1/billing/meter_events"): "billing.MeterEventCreateParams",
    ("POST", "/v1/billing/meter_event_adjustments"): "billing.MeterEventAdjustmentCreateParams",
    ("POST", "/v1/subscriptions"): "SubscriptionCreateParams",
    ("GET", "/v1/subscriptions"): "SubscriptionListParams",
    ("GET", "/v1/subscriptions/{id}"): "SubscriptionRetrieveParams",
    ("POST", "/v1/subscriptions/{id}"): "SubscriptionUpdateParams",
    ("DELETE", "/v1/subscriptions/{id}"): "SubscriptionCancelParams",
    ("POST", "/v1/subscriptions/{id}/resume"): "SubscriptionResumeParams",
    ("DELETE", "/v1/subscriptions/{id}/discount"): "SubscriptionDeleteDiscountParams",
    ("DELETE", "/v1/customers/{customer}/discount"): "CustomerDeleteDiscountParams",
    ("POST", "/v1/subscription_schedules"): "SubscriptionScheduleCreateParams",
    ("GET", "/v1/subscription_schedules"): "SubscriptionScheduleListParams",
    ("GET", "/v1/subscription_schedules/{schedule}"): "SubscriptionScheduleRetrieveParams",
    ("POST", "/v1/subscription_schedules/{schedule}"): "SubscriptionScheduleUpdateParams",
    ("POST", "/v1/subscription_schedules/{schedule}/release"): "SubscriptionScheduleReleaseParams",
    ("POST", "/v1/subscription_schedules/{schedule}/cancel"): "SubscriptionScheduleCancelParams",
    ("POST", "/v1/subscription_items"): "SubscriptionItemCreateParams",
    ("GET", "/v1/subscription_items"): "SubscriptionItemListParams",
    ("GET", "/v1/subscription_items/{id}"): "SubscriptionItemRetrieveParams",
    ("POST", "/v1/subscription_items/{id}"): "SubscriptionItemUpdateParams",
    ("DELETE", "/v1/subscription_items/{id}"): "SubscriptionItemDeleteParams",
    ("GET", "/v1/invoices"): "InvoiceListParams",
    ("GET", "/v1/invoices/{id}"): "InvoiceRetrieveParams",
    ("POST", "/v1/invoices"): "InvoiceCreateParams",
    ("POST", "/v1/invoices/{id}"): "InvoiceUpdateParams",
    ("DELETE", "/v1/invoices/{id}"): "InvoiceDeleteParams",
    ("POST", "/v1/invoices/{id}/finalize"): "InvoiceFinalizeInvoiceParams",
    ("POST", "/v1/invoices/{id}/pay"): "InvoicePayParams",
    ("POST", "/v1/invoices/{id}/void"): "InvoiceVoidInvoiceParams",
    ("POST", "/v1/invoices/{id}/mark_uncollectible"): "InvoiceMarkUncollectibleParams",
    ("POST", "/v1/invoices/{id}/send"): "InvoiceSendInvoiceParams",
    ("GET", "/v1/invoices/{invoice}/lines"): "InvoiceLineItemListParams",
    ("POST", "/v1/invoices/create_preview"): "InvoiceCreatePreviewParams",
    ("POST", "/v1/payment_methods"): "PaymentMethodCreateParams",
    ("GET", "/v1/payment_methods"): "PaymentMethodListParams",
    ("GET", "/v1/payment_methods/{payment_method}"): "PaymentMethodRetrieveParams",
    ("POST", "/v1/payment_methods/{payment_method}"): "PaymentMethodUpdateParams",
    ("POST", "/v1/payment_methods/{payment_method}/attach"): "PaymentMethodAttachParams",
    ("POST", "/v1/payment_methods/{payment_method}/detach"): "PaymentMethodDetachParams",
    ("GET", "/v1/customers/{customer}/payment_methods"): "CustomerListPaymentMethodsParams",
    ("GET", "/v1/customers/{customer}/payment_methods/{payment_method}"): "CustomerRetrievePaymentMethodParams",
    ("POST", "/v1/payment_intents"): "PaymentIntentCreateParams",
    ("GET", "/v1/payment_intents"): "PaymentIntentListParams",
    ("GET", "/v1/payment_intents/{intent}"): "PaymentIntentRetrieveParams",
    ("POST", "/v1/payment_intents/{intent}"): "PaymentIntentUpdateParams",
    ("POST", "/v1/payment_intents/{intent}/confirm"): "PaymentIntentConfirmParams",
    ("POST", "/v1/payment_intents/{intent}/cancel"): "PaymentIntentCancelParams",
    ("POST", "/v1/payment_intents/{intent}/capture"): "PaymentIntentCaptureParams",
    ("GET", "/v1/charges"): "ChargeListParams",
    ("GET", "/v1/charges/{charge}"): "ChargeRetrieveParams",
    ("POST", "/v1/charges/{charge}"): "ChargeUpdateParams",
    ("POST", "/v1/refunds"): "RefundCreateParams",
    ("GET", "/v1/refunds"): "RefundListParams",
    ("GET", "/v1/refunds/{refund}"): "RefundRetrieveParams",
    ("POST", "/v1/refunds/{refund}"): "RefundUpdateParams",
    ("POST", "/v1/invoiceitems"): "InvoiceItemCreateParams",
    ("GET", "/v1/invoiceitems"): "InvoiceItemListParams",
    ("GET", "/v1/invoiceitems/{invoiceitem}"): "InvoiceItemRetrieveParams",
    ("POST", "/v1/invoiceitems/{invoiceitem}"): "InvoiceItemUpdateParams",
    ("DELETE", "/v1/invoiceitems/{invoiceitem}"): "InvoiceItemDeleteParams",
    ("GET", "/v1/invoice_payments"): "InvoicePaymentListParams",
    ("GET", "/v1/invoice_payments/{invoice_payment}"): "InvoicePaymentRetrieveParams",
    ("POST", "/v1/test_helpers/test_clocks"): "test_helpers.TestClockCreateParams",
    ("GET", "/v1/test_helpers/test_clocks"): "test_helpers.TestClockListParams",
    ("GET", "/v1/test_helpers/test_clocks/{id}"): "test_helpers.TestClockRetrieveParams",
    ("DELETE", "/v1/test_helpers/test_clocks/{id}"): "test_helpers.TestClockDeleteParams",
    ("POST", "/v1/test_helpers/test_clocks/{id}/advance"): "test_helpers.TestClockAdvanceParams",
    ("GET", "/v1/events"): "EventListParams",
    ("GET", "/v1/events/{id}"): "EventRetrieveParams",
    ("POST", "/v1/billing/alerts"): "billing.AlertCreateParams",
    ("GET", "/v1/billing/alerts"): "billing.AlertListParams",
    ("GET", "/v1/billing/alerts/{id}"): "billing.AlertRetrieveParams",
    ("POST", "/v1/billing/alerts/{id}/activate"): "billing.AlertActivateParams",
    ("POST", "/v1/billing/alerts/{id}/deactivate"): "billing.AlertDeactivateParams",
    ("POST", "/v1/billing/alerts/{id}/archive"): "billing.AlertArchiveParams",
    ("POST", "/v1/billing/credit_grants"): "billing.CreditGrantCreateParams",
    ("GET", "/v1/billing/credit_grants"): "billing.CreditGrantListParams",
    ("GET", "/v1/billing/credit_grants/{id}"): "billing.CreditGrantRetrieveParams",
    ("POST", "/v1/billing/credit_grants/{id}"): "billing.CreditGrantUpdateParams",
    ("POST", "/v1/billing/credit_grants/{id}/expire"): "billing.CreditGrantExpireParams",
    ("POST", "/v1/billing/credit_grants/{id}/void"): "billing.CreditGrantVoidGrantParams",
    ("GET", "/v1/billing/credit_balance_summary"): "billing.CreditBalanceSummaryRetrieveParams",
    ("GET", "/v1/billing/credit_balance_transactions"): "billing.CreditBalanceTransactionListParams",
    ("GET", "/v1/billing/credit_balance_transactions/{id}"): "billing.CreditBalanceTransactionRetrieveParams",
    ("POST", "/v1/coupons"): "CouponCreateParams",
    ("GET", "/v1/coupons"): "CouponListParams",
    ("GET", "/v1/coupons/{coupon}"): "CouponRetrieveParams",
    ("POST", "/v1/coupons/{coupon}"): "CouponUpdateParams",
    ("DELETE", "/v1/coupons/{coupon}"): "CouponDeleteParams",
    ("POST", "/v1/promotion_codes"): "PromotionCodeCreateParams",
    ("GET", "/v1/promotion_codes"): "PromotionCodeListParams",
    ("GET", "/v1/promotion_codes/{promotion_code}"): "PromotionCodeRetrieveParams",
    ("POST", "/v1/promotion_codes/{promotion_code}"): "PromotionCodeUpdateParams",
    ("POST", "/v1/tax_rates"): "TaxRateCreateParams",
    ("GET", "/v1/tax_rates"): "TaxRateListParams",
    ("GET", "/v1/tax_rates/{tax_rate}"): "TaxRateRetrieveParams",
    ("POST", "/v1/tax_rates/{tax_rate}"): "TaxRateUpdateParams",
    ("POST", "/v1/webhook_endpoints"): "WebhookEndpointCreateParams",
    ("GET", "/v1/webhook_endpoints"): "WebhookEndpointListParams",
    ("GET", "/v1/webhook_endpoints/{id}"): "WebhookEndpointRetrieveParams",
    ("POST", "/v1/webhook_endpoints/{id}"): "WebhookEndpointUpdateParams",
    ("DELETE", "/v1/webhook_endpoints/{id}"): "WebhookEndpointDeleteParams",
    ("POST", "/v1/checkout/sessions"): "checkout.SessionCreateParams",
    ("GET", "/v1/checkout/sessions"): "checkout.SessionListParams",
    ("GET", "/v1/checkout/sessions/{id}"): "checkout.SessionRetrieveParams",
    ("GET", "/v1/checkout/sessions/{session}/line_items"): "checkout.SessionListLineItemsParams",
    ("POST", "/v1/checkout/sessions/{session}/expire"): "checkout.SessionExpireParams",
    ("POST", "/v1/billing_portal/configurations"): "billing_portal.ConfigurationCreateParams",
    ("GET", "/v1/billing_portal/configurations"): "billing_portal.ConfigurationListParams",
    ("GET", "/v1/billing_portal/configurations/{configuration}"): "billing_portal.ConfigurationRetrieveParams",
    ("POST", "/v1/billing_portal/configurations/{configuration}"): "billing_portal.ConfigurationUpdateParams",
    ("POST", "/v1/billing_portal/sessions"): "billing_portal.SessionCreateParams",
    ("GET", "/v1/account"): "AccountRetrieveCurrentParams",
    ("GET", "/v1/accounts/{account}"): "AccountRetrieveParams",
    ("GET", "/v1/plans"): "PlanListParams",
    ("GET", "/v1/plans/{plan}"): "PlanRetrieveParams",
    ("GET", "/v1/customers/{id}/sources"): "CustomerPaymentSourceListParams",
    ("GET", "/v1/products/{id}/features"): "ProductFeatureListParams",
}

# Per-call options the SDK accepts next to the params; they travel as headers, not params.
REQUEST_OPTIONS = set(RequestOptions.__annotations__)


def v1_endpoints() -> dict[tuple[str, str], Endpoint]:
    return {
        (e.method, e.path): e
        for area in default_areas()
        for e in area.endpoints
        if e.path.startswith("/v1/")
    }


def sdk_class(name: str) -> type:
    """`CustomerCreateParams`, `billing.MeterCreateParams`, `v2.billing.MeterEventCreateParams`, ..."""
    module, _, cls = f"stripe.params.{name}".rpartition(".")
    return getattr(importlib.import_module(module), cls)


def test_every_v1_endpoint_has_a_row():
    routes = set(v1_endpoints())
    missing, stale = sorted(routes - set(SDK_PARAMS)), sorted(set(SDK_PARAMS) - routes)
    assert not missing, f"add rows to SDK_PARAMS for {missing}"
    assert not stale, f"these SDK_PARAMS rows name no endpoint: {stale}"


def test_every_row_names_an_sdk_params_class():
    for name in filter(None, SDK_PARAMS.values()):
        assert hasattr(sdk_class(name), "__required_keys__"), name


CHECKED = sorted((route, name) for route, name in SDK_PARAMS.items() if name is not None)


@pytest.mark.parametrize("route, name", CHECKED, ids=[f"{m} {p}" for (m, p), _ in CHECKED])
def test_spec_declares_every_key_the_sdk_can_send(route, name):
    spec = v1_endpoints()[route].params
    sdk_keys = set(sdk_class(name).__annotations__) - REQUEST_OPTIONS
    assert sorted(sdk_keys - set(spec.fields)) == [], f"{name} keys missing from the spec of {route}"


@pytest.mark.parametrize("route, name", CHECKED, ids=[f"{m} {p}" for (m, p), _ in CHECKED])
def test_spec_requires_what_the_sdk_requires(route, name):
    spec = v1_endpoints()[route].params
    required = set(sdk_class(name).__required_keys__) - REQUEST_OPTIONS
    optional_in_spec = sorted(key for key in required if key in spec.fields and not spec.fields[key].required)
    assert optional_in_spec == [], f"{name} requires these; the spec of {route} does not"
