// The usage-based billing guide's flow through the official stripe-node SDK, against the server at
// $STRIPE_API (e.g. http://127.0.0.1:12111), asserting what the guide promises at each step (the same
// values as conformance/promises.py). Exits non-zero on the first failed step.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import Stripe from "stripe";

const TOKENS = 25;
const AMOUNT = 4; // one started package of 100 tokens at 4 cents
const DAY = 86400;

function client(baseUrl) {
  const url = new URL(baseUrl);
  // A fresh key is a fresh, empty account on mockstripe.
  return new Stripe(`sk_test_${randomBytes(12).toString("hex")}`, {
    host: url.hostname,
    port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    protocol: url.protocol.replace(":", ""),
    maxNetworkRetries: 0,
  });
}

async function flow(stripe) {
  const steps = [];
  const step = async (title, run) => {
    const result = await run();
    steps.push(title);
    console.log(`ok - ${title}`);
    return result;
  };

  const meter = await step("1. create a meter", async () => {
    const meter = await stripe.billing.meters.create({
      display_name: "Alpaca AI tokens",
      event_name: "alpaca_ai_tokens",
      default_aggregation: { formula: "sum" },
      customer_mapping: { event_payload_key: "stripe_customer_id", type: "by_id" },
      value_settings: { event_payload_key: "value" },
    });
    assert.equal(meter.object, "billing.meter");
    assert.match(meter.id, /^mtr_/);
    assert.equal(meter.display_name, "Alpaca AI tokens");
    assert.equal(meter.event_name, "alpaca_ai_tokens");
    assert.deepEqual(meter.default_aggregation, { formula: "sum" });
    assert.deepEqual(meter.customer_mapping, { event_payload_key: "stripe_customer_id", type: "by_id" });
    assert.deepEqual(meter.value_settings, { event_payload_key: "value" });
    assert.equal(meter.status, "active");
    return meter;
  });

  const price = await step("2. create a metered price", async () => {
    const price = await stripe.prices.create({
      currency: "usd",
      unit_amount: 4,
      billing_scheme: "per_unit",
      transform_quantity: { divide_by: 100, round: "up" },
      recurring: { usage_type: "metered", interval: "month", meter: meter.id },
      product_data: { name: "Alpaca AI tokens" },
    });
    assert.equal(price.object, "price");
    assert.match(price.id, /^price_/);
    assert.deepEqual([price.currency, price.unit_amount, String(price.unit_amount_decimal)], ["usd", 4, "4"]);
    assert.equal(price.billing_scheme, "per_unit");
    assert.equal(price.type, "recurring");
    assert.deepEqual(price.transform_quantity, { divide_by: 100, round: "up" });
    assert.equal(price.recurring.usage_type, "metered");
    assert.equal(price.recurring.interval, "month");
    assert.equal(price.recurring.interval_count, 1);
    assert.equal(price.recurring.meter, meter.id);
    assert.match(price.product, /^prod_/);
    return price;
  });

  const customer = await step("3. create a customer", async () => {
    const customer = await stripe.customers.create({ name: "John Doe" });
    assert.equal(customer.object, "customer");
    assert.match(customer.id, /^cus_/);
    assert.equal(customer.name, "John Doe");
    return customer;
  });

  const subscription = await step("4. create a subscription", async () => {
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    assert.equal(subscription.object, "subscription");
    assert.match(subscription.id, /^sub_/);
    assert.equal(subscription.customer, customer.id);
    assert.equal(subscription.status, "active");
    assert.equal(subscription.items.data.length, 1);
    const item = subscription.items.data[0];
    assert.equal(item.price.id, price.id);
    assert.ok(item.current_period_start <= subscription.created && subscription.created < item.current_period_end);
    assert.equal("current_period_start" in subscription, false);
    assert.equal(subscription.billing_mode.type, "flexible");
    assert.equal(subscription.latest_invoice, null);
    return subscription;
  });
  const item = subscription.items.data[0];

  const event = await step("5. send a meter event", async () => {
    const event = await stripe.billing.meterEvents.create({
      event_name: "alpaca_ai_tokens",
      payload: { stripe_customer_id: customer.id, value: String(TOKENS) },
    });
    assert.equal(event.object, "billing.meter_event");
    assert.equal(event.event_name, "alpaca_ai_tokens");
    assert.deepEqual(event.payload, { stripe_customer_id: customer.id, value: String(TOKENS) });
    assert.ok(typeof event.identifier === "string" && event.identifier.length > 0);
    return event;
  });

  await step("6. create a preview invoice", async () => {
    const preview = await stripe.invoices.createPreview({ subscription: subscription.id });
    assert.equal(preview.object, "invoice");
    assert.equal(preview.customer, customer.id);
    assert.equal(preview.parent.subscription_details.subscription, subscription.id);
    assert.equal(preview.billing_reason, "upcoming");
    assert.equal(preview.status, "draft");
    assert.deepEqual([preview.period_start, preview.period_end], [item.current_period_start, item.current_period_end]);
    assert.equal(preview.lines.data.length, 1);
    const line = preview.lines.data[0];
    assert.equal(line.pricing.price_details.price, price.id);
    assert.deepEqual(line.period, { start: item.current_period_start, end: item.current_period_end });
    assert.equal(line.amount, AMOUNT);
    assert.deepEqual([preview.subtotal, preview.total, preview.amount_due], [AMOUNT, AMOUNT, AMOUNT]);
  });

  await step("the flow's events, in order", async () => {
    const events = await stripe.events.list({ limit: 100 });
    assert.deepEqual(events.data.map((e) => e.type).reverse(), [
      "billing.meter.created",
      "product.created",
      "price.created",
      "customer.created",
      "customer.updated", // the subscription sets the customer's currency
      "customer.subscription.created",
    ]);
    const created = events.data[0];
    assert.match(created.id, /^evt_/);
    assert.equal(created.data.object.id, subscription.id);
    assert.equal(created.data.object.items.data[0].price.id, price.id);
    const retrieved = await stripe.events.retrieve(created.id);
    assert.deepEqual(retrieved, created);
  });

  await step("optional: retrieve usage for a custom time period", async () => {
    const start = event.timestamp - (event.timestamp % DAY);
    const summaries = await stripe.billing.meters.listEventSummaries(meter.id, {
      customer: customer.id,
      start_time: start,
      end_time: start + DAY,
    });
    assert.equal(summaries.object, "list");
    assert.equal(summaries.data.length, 1);
    const summary = summaries.data[0];
    assert.equal(summary.object, "billing.meter_event_summary");
    assert.equal(summary.meter, meter.id);
    assert.equal(summary.aggregated_value, TOKENS);
    assert.ok(summary.start_time <= event.timestamp && event.timestamp < summary.end_time);
  });
  return steps;
}

// A local receiver for the account's webhooks: each delivery is verified with the SDK's
// `stripe.webhooks.constructEvent`, as a Node application would.
async function webhooks(stripe) {
  const deliveries = [];
  const waiters = [];
  const receiver = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      deliveries.push({ body: Buffer.concat(chunks), headers: request.headers });
      waiters.splice(0).forEach((wake) => wake());
      response.writeHead(200).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const until = async (count) => {
    const deadline = Date.now() + 10_000;
    while (deliveries.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${deliveries.length} of ${count} webhooks arrived`);
      await new Promise((wake) => { waiters.push(wake); setTimeout(wake, 100); });
    }
  };
  try {
    const endpoint = await stripe.webhookEndpoints.create({
      url: `http://127.0.0.1:${receiver.address().port}/webhooks`,
      enabled_events: ["customer.created", "customer.updated"],
    });
    assert.match(endpoint.secret, /^whsec_/);
    const customer = await stripe.customers.create({ name: "Jenny" });
    await stripe.customers.update(customer.id, { name: "Jenny Rosen" });
    await until(2);
    const events = deliveries.map(({ body, headers }) => {
      assert.equal(headers["content-type"], "application/json; charset=utf-8");
      assert.equal(headers["user-agent"], "Stripe/1.0 (+https://stripe.com/docs/webhooks)");
      return stripe.webhooks.constructEvent(body, headers["stripe-signature"], endpoint.secret);
    });
    assert.deepEqual(events.map((e) => e.type), ["customer.created", "customer.updated"]);
    assert.ok(events.every((e) => e.data.object.id === customer.id));
    assert.deepEqual(events[1].data.previous_attributes, { name: "Jenny" });
    assert.equal((await stripe.events.retrieve(events[0].id)).type, "customer.created");
    assert.throws(
      () => stripe.webhooks.constructEvent(deliveries[0].body, deliveries[0].headers["stripe-signature"], "whsec_other"),
      /signature/i,
    );
    console.log("ok - webhooks: signed deliveries verified by stripe.webhooks.constructEvent");
  } finally {
    receiver.close();
  }
}

const baseUrl = process.env.STRIPE_API;
if (!baseUrl) {
  console.error("set STRIPE_API to the server's URL, e.g. STRIPE_API=http://127.0.0.1:12111 node flow.mjs");
  process.exit(2);
}
try {
  const steps = await flow(client(baseUrl));
  await webhooks(client(baseUrl));
  console.log(`stripe-node ${Stripe.PACKAGE_VERSION}: all ${steps.length} steps of the guide hold`);
} catch (error) {
  console.error(`not ok - ${error.stack ?? error}`);
  if (error.raw) console.error(JSON.stringify(error.raw, null, 2)); // a Stripe error: the server's answer
  process.exit(1);
}
