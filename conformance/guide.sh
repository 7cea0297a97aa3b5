#!/usr/bin/env bash
# The cURL calls of Stripe's guide "Set up usage-based billing with products and prices"
# (Alpaca AI: 0.04 USD per 100 tokens), in the guide's order and exactly as the guide writes them.
# Only the host differs: https://api.stripe.com is $STRIPE_API.
#
# Each {{PLACEHOLDER}} is the id from an earlier response ({{METER_ID}} from call 1, ...), and
# {{START_TIME}}/{{END_TIME}} a minute-aligned range around the meter event. Fill them in by hand
# and run the calls one by one, or let `python -m conformance.curlflow` do it (see README.md).
STRIPE_API=${STRIPE_API:-http://127.0.0.1:12111}

# 1. Create a meter
curl $STRIPE_API/v1/billing/meters \
  -u "sk_test_BQokikJOvBiI2HlWgH4olfQ2:" \
  -d display_name="Alpaca AI tokens" \
  -d event_name=alpaca_ai_tokens \
  -d "default_aggregation[formula]"=sum \
  -d "customer_mapping[event_payload_key]"=stripe_customer_id \
  -d "customer_mapping[type]"=by_id \
  -d "value_settings[event_payload_key]"=value

# 2. Create a pricing model
curl $STRIPE_API/v1/prices \
  -u "sk_test_BQokikJOvBiI2HlWgH4olfQ2:" \
  -d currency=usd \
  -d unit_amount=4 \
  -d billing_scheme=per_unit \
  -d "transform_quantity[divide_by]"=100 \
  -d "transform_quantity[round]"=up \
  -d "recurring[usage_type]"=metered \
  -d "recurring[interval]"=month \
  -d "recurring[meter]"={{METER_ID}} \
  -d "product_data[name]"="Alpaca AI tokens"

# 3. Create a customer
curl $STRIPE_API/v1/customers \
  -u "sk_test_BQokikJOvBiI2HlWgH4olfQ2:" \
  -d name="John Doe"

# 4. Create a subscription
curl $STRIPE_API/v1/subscriptions \
  -u "sk_test_BQokikJOvBiI2HlWgH4olfQ2:" \
  -d customer={{CUSTOMER_ID}} \
  -d "items[0][price]"={{PRICE_ID}}

# 5. Send a test meter event
curl $STRIPE_API/v1/billing/meter_events \
  -u "sk_test_BQokikJOvBiI2HlWgH4olfQ2:" \
  -d event_name=alpaca_ai_tokens \
  -d "payload[stripe_customer_id]"={{CUSTOMER_ID}} \
  -d "payload[value]"=25

# 6. Create a preview invoice
curl $STRIPE_API/v1/invoices/create_preview \
  -u "sk_test_BQokikJOvBiI2HlWgH4olfQ2:" \
  -d subscription={{SUBSCRIPTION_ID}}

# Optional: Retrieve usage for a custom time period
curl -G $STRIPE_API/v1/billing/meters/{{METER_ID}}/event_summaries \
  -u "sk_test_BQokikJOvBiI2HlWgH4olfQ2:" \
  -d customer={{CUSTOMER_ID}} \
  -d start_time={{START_TIME}} \
  -d end_time={{END_TIME}}
