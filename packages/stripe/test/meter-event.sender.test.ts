import type { StripeEmulator } from "@sparks/emulators";
import { RedisRateLimiter } from "@sparks/queues";
import { createTestRedis } from "@sparks/testing";
import type Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createStripeClient,
  MeterEventSender,
  meterEventIdentifier,
  type StripeCallAudit,
  StripeCallError,
} from "../src/index";
import { meterAndCustomer, startStripe } from "./stripe-test.helpers";

const EVENT = "sparks_ai_tokens";
const METER_EVENTS = "/v1/billing/meter_events";

let emulator: StripeEmulator;
let stripe: Stripe;
let customer: string;
let audits: StripeCallAudit[];
let sender: MeterEventSender;

/** A whole second in the recent past: Stripe keeps Unix seconds and refuses > 35 days. */
function recent(secondsAgo = 3600): Date {
  return new Date((Math.floor(Date.now() / 1000) - secondsAgo) * 1000);
}

async function refusal(p: Promise<unknown>): Promise<StripeCallError> {
  const e = await p.then(
    () => {
      throw new Error("expected the send to fail");
    },
    (err: unknown) => err,
  );
  if (!(e instanceof StripeCallError)) throw e;
  return e;
}

beforeEach(async () => {
  ({ emulator, stripe } = await startStripe({ rateLimitPerSecond: 25 }));
  customer = await meterAndCustomer(stripe, EVENT);
  audits = [];
  sender = new MeterEventSender(stripe, { onCall: (a) => void audits.push(a) });
});

afterEach(async () => {
  await emulator.close();
});

describe("MeterEventSender", () => {
  it("sends one event with the exact identifier, value, customer and timestamp", async () => {
    const identifier = meterEventIdentifier({ traceId: "trace-1", category: "ai_tokens" });
    const at = recent();
    const result = await sender.send({
      eventName: EVENT,
      stripeCustomerId: customer,
      value: 1234n,
      identifier,
      timestamp: at,
    });
    expect(result.outcome).toBe("sent");
    expect(result.statusCode).toBe(200);
    expect(result.requestId).toMatch(/^req_/);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);

    const events = emulator.recording.meterEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      identifier: "ai_tokens-trace-1",
      eventName: EVENT,
      customer,
      value: 1234,
      timestamp: at.getTime() / 1000,
    });
    // The value travels as a whole-number string, as Stripe requires.
    const [request] = emulator.recording.filter({ method: "POST", path: METER_EVENTS });
    expect(request?.params).toMatchObject({ payload: { value: "1234", stripe_customer_id: customer } });

    expect(audits).toEqual([
      {
        operation: "billing.meter_events.create",
        identifier,
        request: {
          event_name: EVENT,
          stripe_customer_id: customer,
          value: "1234",
          timestamp: at.getTime() / 1000,
        },
        outcome: "sent",
        statusCode: 200,
        requestId: result.requestId,
        durationMs: result.durationMs,
        error: null,
      },
    ]);
    expect(JSON.stringify(audits)).not.toContain(emulator.secretKey);
  });

  it("reports a reused identifier as a duplicate (already delivered), never as a second event", async () => {
    const input = {
      eventName: EVENT,
      stripeCustomerId: customer,
      value: 7n,
      identifier: "compute-t-dup",
      timestamp: recent(),
    };
    expect((await sender.send(input)).outcome).toBe("sent");
    const again = await sender.send(input);
    expect(again.outcome).toBe("duplicate");
    expect(again.statusCode).toBe(400);
    expect(emulator.recording.meterEvents()).toHaveLength(1);
    expect(emulator.recording.meterTotal(customer, EVENT)).toBe(7);
    expect(audits.map((a) => a.outcome)).toEqual(["sent", "duplicate"]);
  });

  it.each([
    ["server_error", 500],
    ["rate_limit", 429],
    ["rate_limit_should_retry", 429],
  ] as const)("makes a %s retryable, records nothing, and the resend goes through", async (kind, status) => {
    // A client configured with SDK retries still makes exactly one call here: retries are ours.
    const retrying = createStripeClient({
      secretKey: emulator.secretKey,
      apiBase: { host: emulator.host, port: emulator.port, protocol: "http" },
      maxNetworkRetries: 2,
    });
    const s = new MeterEventSender(retrying, { onCall: (a) => void audits.push(a) });
    emulator.faults.inject({ kind, path: METER_EVENTS });
    const input = {
      eventName: EVENT,
      stripeCustomerId: customer,
      value: 5n,
      identifier: `ai_tokens-${kind}`,
      timestamp: recent(),
    };
    const e = await refusal(s.send(input));
    expect(e.retryable).toBe(true);
    expect(e.statusCode).toBe(status);
    expect(emulator.recording.filter({ method: "POST", path: METER_EVENTS })).toHaveLength(1);
    expect(emulator.recording.meterEvents()).toHaveLength(0);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ outcome: "retryable_error", statusCode: status });
    expect(audits[0]?.error).toContain(String(status));

    expect((await s.send(input)).outcome).toBe("sent");
    expect(emulator.recording.meterTotal(customer, EVENT)).toBe(5);
  });

  it("makes a timeout retryable and records nothing", async () => {
    emulator.faults.inject({ kind: "hang", path: METER_EVENTS, hangMs: 1_500 });
    const s = new MeterEventSender(stripe, { timeoutMs: 150, onCall: (a) => void audits.push(a) });
    const e = await refusal(
      s.send({
        eventName: EVENT,
        stripeCustomerId: customer,
        value: 1n,
        identifier: "storage-t-hang",
        timestamp: recent(),
      }),
    );
    expect(e.retryable).toBe(true);
    expect(e.code).toBe("timeout");
    expect(e.statusCode).toBeUndefined();
    expect(emulator.recording.meterEvents()).toHaveLength(0);
    expect(audits[0]).toMatchObject({ outcome: "retryable_error", statusCode: null });
  });

  it("makes a refused connection retryable", async () => {
    const { port, host, secretKey } = emulator;
    await emulator.close();
    const gone = createStripeClient({ secretKey, apiBase: { host, port, protocol: "http" } });
    const e = await refusal(
      new MeterEventSender(gone).send({
        eventName: EVENT,
        stripeCustomerId: customer,
        value: 1n,
        identifier: "storage-t-down",
        timestamp: recent(),
      }),
    );
    expect(e.retryable).toBe(true);
    expect(e.code).toBe("connection_error");
    // Reopened so afterEach can close something.
    ({ emulator } = await startStripe());
  });

  it("makes an unknown event name a permanent error that says what Stripe said", async () => {
    const e = await refusal(
      sender.send({
        eventName: "sparks_gold",
        stripeCustomerId: customer,
        value: 3n,
        identifier: "x-1",
        timestamp: recent(),
      }),
    );
    expect(e.retryable).toBe(false);
    expect(e.statusCode).toBe(400);
    expect(e.message).toContain("No active meter was found for event_name 'sparks_gold'");
    expect(audits[0]).toMatchObject({ outcome: "permanent_error", statusCode: 400 });
    expect(emulator.recording.meterEvents()).toHaveLength(0);
  });

  it("makes an unknown customer and a too-old timestamp permanent errors", async () => {
    const unknown = await refusal(
      sender.send({
        eventName: EVENT,
        stripeCustomerId: "cus_nobody",
        value: 3n,
        identifier: "x-2",
        timestamp: recent(),
      }),
    );
    expect(unknown.retryable).toBe(false);
    const old = await refusal(
      sender.send({
        eventName: EVENT,
        stripeCustomerId: customer,
        value: 3n,
        identifier: "x-3",
        timestamp: recent(36 * 86_400),
      }),
    );
    expect(old.retryable).toBe(false);
    expect(old.message).toMatch(/35/);
  });

  it("refuses a negative value or an over-long identifier without calling Stripe", async () => {
    let acquired = 0;
    const s = new MeterEventSender(stripe, { acquire: async () => void acquired++ });
    const neg = await refusal(
      s.send({
        eventName: EVENT,
        stripeCustomerId: customer,
        value: -1n,
        identifier: "x-4",
        timestamp: recent(),
      }),
    );
    expect(neg.retryable).toBe(false);
    const long = await refusal(
      s.send({
        eventName: EVENT,
        stripeCustomerId: customer,
        value: 1n,
        identifier: "i".repeat(101),
        timestamp: recent(),
      }),
    );
    expect(long.retryable).toBe(false);
    expect(acquired).toBe(0);
    expect(emulator.recording.filter({ path: METER_EVENTS })).toHaveLength(0);
  });
});

describe("MeterEventSender under a shared rate budget", () => {
  let redis: Awaited<ReturnType<typeof createTestRedis>>;

  beforeEach(async () => {
    redis = await createTestRedis();
  });

  afterEach(async () => {
    await redis.cleanup();
  });

  async function burst(
    s: MeterEventSender,
    n: number,
    tag: string,
  ): Promise<Array<"sent" | "duplicate" | "error">> {
    return Promise.all(
      Array.from({ length: n }, (_, i) =>
        s
          .send({
            eventName: EVENT,
            stripeCustomerId: customer,
            value: 1n,
            identifier: `${tag}-${i}`,
            timestamp: recent(),
          })
          .then(
            (r) => r.outcome,
            () => "error" as const,
          ),
      ),
    );
  }

  it("keeps a burst within the emulator's 25 req/s: zero 429s (and without it there are some)", async () => {
    // Control: the same burst without the budget trips Stripe's limit, so the test can fail.
    const unlimited = await burst(sender, 40, "nolimit");
    expect(unlimited.filter((o) => o === "error").length).toBeGreaterThan(0);
    expect(emulator.recording.filter({ path: METER_EVENTS, status: 429 }).length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1_100));
    emulator.recording.clear();

    // STRIPE_MAX_RPS 20 under test mode's 25, shared by two "processes" (two limiter instances).
    const key = `${redis.prefix}:stripe`;
    const a = new RedisRateLimiter(redis.connection, { key, ratePerSecond: 20, burst: 5 });
    const b = new RedisRateLimiter(redis.connection, { key, ratePerSecond: 20, burst: 5 });
    let acquires = 0;
    const counted = (limiter: RedisRateLimiter) => () => {
      acquires += 1;
      return limiter.acquire();
    };
    const sa = new MeterEventSender(stripe, { acquire: counted(a) });
    const sb = new MeterEventSender(stripe, { acquire: counted(b) });
    const outcomes = (await Promise.all([burst(sa, 25, "lim-a"), burst(sb, 25, "lim-b")])).flat();
    expect(outcomes.every((o) => o === "sent")).toBe(true);
    expect(acquires).toBe(50);
    expect(emulator.recording.filter({ path: METER_EVENTS, status: 429 })).toHaveLength(0);
    expect(emulator.recording.filter({ path: METER_EVENTS, status: 200 })).toHaveLength(50);
  });
});
