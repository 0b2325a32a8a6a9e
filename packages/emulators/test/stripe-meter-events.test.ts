import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { createStripeEmulator, type StripeEmulator, type StripeEmulatorOptions } from "../src/stripe/index";
import { asStripeError, sdkFor, setupMeteredCatalog, unexpected } from "./stripe-helpers";

const METER_EVENTS = "/v1/billing/meter_events";
const DAY_MS = 86_400_000;
let emu: StripeEmulator | undefined;

afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

/** A started emulator with one metered catalog; `clock.ms` is the emulator's time. */
async function start(opts: StripeEmulatorOptions = {}, sdk: Partial<Stripe.StripeConfig> = {}) {
  const clock = { ms: Date.UTC(2026, 10, 20, 12, 0, 0) };
  emu = await createStripeEmulator({ now: () => clock.ms, rateLimitPerSecond: 0, ...opts });
  const stripe = sdkFor(emu, sdk);
  const catalog = await setupMeteredCatalog(stripe);
  return { emu, stripe, clock, ...catalog };
}

function event(
  customer: string,
  identifier: string,
  value = "10",
  timestamp?: number,
): Stripe.Billing.MeterEventCreateParams {
  const params: Stripe.Billing.MeterEventCreateParams = {
    event_name: "sparks_ai_tokens",
    payload: { stripe_customer_id: customer, value },
    identifier,
  };
  if (timestamp !== undefined) params.timestamp = timestamp;
  return params;
}

describe("meter events: validation and dedupe", () => {
  it("accepts an event, refuses a repeated identifier with Stripe's message, and records only the first", async () => {
    const { stripe, customer, emu } = await start({}, { maxNetworkRetries: 3 });
    const ok = await stripe.billing.meterEvents.create(event(customer.id, "trace-1:ai_tokens", "1500"));
    expect(ok.object).toBe("billing.meter_event");
    expect(ok.identifier).toBe("trace-1:ai_tokens");
    expect(ok.payload.value).toBe("1500");

    const dup = await stripe.billing.meterEvents
      .create(event(customer.id, "trace-1:ai_tokens", "1500"))
      .then(unexpected, asStripeError);
    expect(dup.statusCode).toBe(400);
    expect(dup.message).toBe("An event already exists with identifier trace-1:ai_tokens");
    expect(dup.headers?.["stripe-should-retry"]).toBe("false");
    // Stripe-Should-Retry: false stops the SDK's retries: one request for the duplicate.
    expect(emu.recording.filter({ path: METER_EVENTS, status: 400 })).toHaveLength(1);
    expect(emu.recording.meterEvents()).toHaveLength(1);
    expect(emu.recording.meterTotal(customer.id, "sparks_ai_tokens")).toBe(1500);
  });

  it("refuses non-whole values, stale or future timestamps, long identifiers, unknown customers and meters", async () => {
    const { stripe, customer, clock, emu } = await start();
    const nowSec = Math.floor(clock.ms / 1000);
    const decimal = await stripe.billing.meterEvents
      .create(event(customer.id, "a", "1.5"))
      .then(unexpected, asStripeError);
    expect(decimal.statusCode).toBe(400);
    expect(decimal.param).toBe("payload[value]");

    const old = await stripe.billing.meterEvents
      .create(event(customer.id, "b", "1", nowSec - 40 * 86_400))
      .then(unexpected, asStripeError);
    expect(old.param).toBe("timestamp");
    const future = await stripe.billing.meterEvents
      .create(event(customer.id, "c", "1", nowSec + 6 * 60))
      .then(unexpected, asStripeError);
    expect(future.param).toBe("timestamp");
    await expect(
      stripe.billing.meterEvents.create(event(customer.id, "d", "1", nowSec - 34 * 86_400)),
    ).resolves.toBeTruthy();

    const long = await stripe.billing.meterEvents
      .create(event(customer.id, "x".repeat(101)))
      .then(unexpected, asStripeError);
    expect(long.param).toBe("identifier");
    const nobody = await stripe.billing.meterEvents
      .create(event("cus_nobody", "e"))
      .then(unexpected, asStripeError);
    expect(nobody.param).toBe("payload[stripe_customer_id]");
    const noMeter = await stripe.billing.meterEvents
      .create({ event_name: "nope", payload: { stripe_customer_id: customer.id, value: "1" } })
      .then(unexpected, asStripeError);
    expect(noMeter.param).toBe("event_name");
    const unknown = await stripe.billing.meterEvents
      .create({ ...event(customer.id, "f"), extra: "1" } as Stripe.Billing.MeterEventCreateParams)
      .then(unexpected, asStripeError);
    expect(unknown.code).toBe("parameter_unknown");
    expect(emu.recording.meterEvents().map((e) => e.identifier)).toEqual(["d"]);
  });

  it("forgets identifiers after 24 hours of emulator time (a repeat is billed again)", async () => {
    const { stripe, customer, clock, emu } = await start();
    await stripe.billing.meterEvents.create(event(customer.id, "again", "5"));
    clock.ms += DAY_MS - 60_000;
    await stripe.billing.meterEvents.create(event(customer.id, "again", "5")).then(unexpected, asStripeError);
    clock.ms += 120_000;
    await stripe.billing.meterEvents.create(event(customer.id, "again", "5"));
    expect(emu.recording.meterTotal(customer.id, "sparks_ai_tokens")).toBe(10);
  });
});

describe("meter events: summaries and adjustments", () => {
  it("sums events over [start, end), groups by hour, and drops cancelled events", async () => {
    const { stripe, customer, meter, clock } = await start();
    const base = Math.floor(clock.ms / 1000) - 3 * 3600; // 09:00 UTC, hour-aligned
    await stripe.billing.meterEvents.create(event(customer.id, "s1", "100", base));
    await stripe.billing.meterEvents.create(event(customer.id, "s2", "20", base + 3599));
    await stripe.billing.meterEvents.create(event(customer.id, "s3", "3", base + 3600));
    const params = { customer: customer.id, start_time: base, end_time: base + 7200 };
    const total = await stripe.billing.meters.listEventSummaries(meter.id, params);
    expect(total.data.map((s) => s.aggregated_value)).toEqual([123]);
    const firstHour = await stripe.billing.meters.listEventSummaries(meter.id, {
      ...params,
      end_time: base + 3600,
    });
    expect(firstHour.data[0]?.aggregated_value).toBe(120);
    const hourly = await stripe.billing.meters.listEventSummaries(meter.id, {
      ...params,
      value_grouping_window: "hour",
    });
    expect(hourly.data.map((s) => [s.start_time, s.aggregated_value])).toEqual([
      [base, 120],
      [base + 3600, 3],
    ]);
    const unaligned = await stripe.billing.meters
      .listEventSummaries(meter.id, { ...params, start_time: base + 30 })
      .then(unexpected, asStripeError);
    expect(unaligned.param).toBe("start_time");

    const adj = await stripe.billing.meterEventAdjustments.create({
      event_name: "sparks_ai_tokens",
      type: "cancel",
      cancel: { identifier: "s2" },
    });
    expect(adj.cancel?.identifier).toBe("s2");
    const after = await stripe.billing.meters.listEventSummaries(meter.id, params);
    expect(after.data[0]?.aggregated_value).toBe(103);

    clock.ms += DAY_MS + 1000;
    const late = await stripe.billing.meterEventAdjustments
      .create({ event_name: "sparks_ai_tokens", type: "cancel", cancel: { identifier: "s1" } })
      .then(unexpected, asStripeError);
    expect(late.statusCode).toBe(400);
  });
});

describe("meter events: rate limits", () => {
  it("answers 429 over the requests-per-second budget, which the SDK does not retry", async () => {
    const { stripe, customer, emu } = await start({ rateLimitPerSecond: 5 }, { maxNetworkRetries: 3 });
    const results = [];
    for (let i = 0; i < 8; i++) {
      results.push(
        await stripe.billing.meterEvents
          .create(event(customer.id, `rl-${i}`))
          .then(() => "ok", asStripeError),
      );
    }
    const limited = results.filter((r) => r instanceof Stripe.errors.StripeRateLimitError);
    expect(results.filter((r) => r === "ok")).toHaveLength(5);
    expect(limited).toHaveLength(3);
    expect(emu.recording.filter({ path: METER_EVENTS })).toHaveLength(8);
    expect(emu.recording.meterEvents()).toHaveLength(5);
  });

  it("answers 429 to a second concurrent call for the same customer and meter", async () => {
    const { stripe, customer, emu } = await start({ latencyMs: 150 });
    const other = await stripe.customers.create({ email: "b@example.com" });
    const [a, b, c] = await Promise.allSettled([
      stripe.billing.meterEvents.create(event(customer.id, "cc-1")),
      stripe.billing.meterEvents.create(event(customer.id, "cc-2")),
      stripe.billing.meterEvents.create(event(other.id, "cc-3")),
    ]);
    const statuses = [a, b, c].map((r) => r.status);
    expect(statuses.filter((s) => s === "fulfilled")).toHaveLength(2);
    expect(c?.status).toBe("fulfilled");
    const rejected = [a, b].find((r) => r.status === "rejected");
    expect(rejected?.status === "rejected" && rejected.reason).toBeInstanceOf(
      Stripe.errors.StripeRateLimitError,
    );
    expect(emu.recording.meterEvents()).toHaveLength(2);
  });
});

describe("meter events: faults", () => {
  it("gets through a 500 storm with the SDK's retries, recording exactly one event per identifier", async () => {
    const { stripe, customer, emu } = await start({}, { maxNetworkRetries: 3 });
    emu.faults.inject({ kind: "server_error", count: 2, path: METER_EVENTS });
    await stripe.billing.meterEvents.create(event(customer.id, "storm-1", "7"));
    emu.faults.inject({ kind: "rate_limit_should_retry", count: 1, path: METER_EVENTS });
    await stripe.billing.meterEvents.create(event(customer.id, "storm-2", "8"));
    expect(emu.faults.pending()).toBe(0);

    const storm1 = emu.recording
      .filter({ path: METER_EVENTS })
      .filter((r) => r.params.identifier === "storm-1");
    expect(storm1.map((r) => r.status)).toEqual([500, 500, 200]);
    // The SDK retried with the same Idempotency-Key.
    expect(new Set(storm1.map((r) => r.idempotencyKey)).size).toBe(1);
    const ids = emu.recording.meterEvents().map((e) => e.identifier);
    expect(ids).toEqual(["storm-1", "storm-2"]);
    expect(emu.recording.meterTotal(customer.id, "sparks_ai_tokens")).toBe(15);
  });

  it("does not record a plain 429 fault, which the SDK surfaces without retrying", async () => {
    const { stripe, customer, emu } = await start({}, { maxNetworkRetries: 3 });
    emu.faults.inject({ kind: "rate_limit", path: METER_EVENTS });
    const err = await stripe.billing.meterEvents
      .create(event(customer.id, "plain-429"))
      .then(unexpected, asStripeError);
    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(emu.recording.filter({ path: METER_EVENTS })).toHaveLength(1);
    expect(emu.recording.meterEvents()).toHaveLength(0);
  });

  it("hangs past the client's timeout without recording; the retry records once", async () => {
    const { stripe, customer, emu } = await start({}, { maxNetworkRetries: 2, timeout: 300 });
    emu.faults.inject({ kind: "hang", hangMs: 1_000, path: METER_EVENTS });
    await stripe.billing.meterEvents.create(event(customer.id, "slow-1"));
    expect(emu.recording.meterEvents().map((e) => e.identifier)).toEqual(["slow-1"]);
  });

  it("survives a seeded random failure mix with each identifier recorded once", async () => {
    const { stripe, customer, emu } = await start({}, { maxNetworkRetries: 6 });
    emu.faults.randomly({
      rate: 0.3,
      seed: 42,
      kinds: ["server_error", "rate_limit_should_retry"],
      path: METER_EVENTS,
    });
    for (let i = 0; i < 8; i++) await stripe.billing.meterEvents.create(event(customer.id, `mix-${i}`, "1"));
    const faulted = emu.recording.filter({ path: METER_EVENTS }).filter((r) => r.fault !== null);
    expect(faulted.length).toBeGreaterThan(0);
    expect(emu.recording.meterEvents().map((e) => e.identifier)).toEqual(
      [...Array(8).keys()].map((i) => `mix-${i}`),
    );
  });
});

describe("meter events: v2 session and stream", () => {
  it("accepts batched events on the stream with a session token, dropping repeats", async () => {
    const { stripe, customer, emu, clock } = await start();
    const session = await stripe.v2.billing.meterEventSession.create();
    expect(session.authentication_token).toMatch(/^meses_/);
    const streamer = new Stripe(session.authentication_token, {
      host: emu.host,
      port: emu.port,
      protocol: "http",
    });
    const ts = new Date(clock.ms - 60_000).toISOString();
    const batch = ["v2-a", "v2-b", "v2-a"].map((identifier) => ({
      event_name: "sparks_ai_tokens",
      identifier,
      timestamp: ts,
      payload: { stripe_customer_id: customer.id, value: "4" },
    }));
    await streamer.v2.billing.meterEventStream.create({ events: batch });
    expect(emu.recording.meterEvents().map((e) => [e.identifier, e.source])).toEqual([
      ["v2-a", "v2_stream"],
      ["v2-b", "v2_stream"],
    ]);
    clock.ms += 16 * 60_000;
    const expired = await streamer.v2.billing.meterEventStream
      .create({ events: batch })
      .then(unexpected, asStripeError);
    expect(expired).toBeInstanceOf(Stripe.errors.TemporarySessionExpiredError);
  });
});
