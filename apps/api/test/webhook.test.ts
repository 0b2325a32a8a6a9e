import { randomBytes } from "node:crypto";
import { webhookEvents } from "@sparks/db";
import { createStripeEmulator, signStripeWebhookPayload } from "@sparks/emulators";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookHarness, type WebhookHarness } from "./webhook.harness";

const SECRET = `whsec_${randomBytes(16).toString("hex")}`;
let h: WebhookHarness;

beforeAll(async () => {
  h = await createWebhookHarness({
    env: { STRIPE_WEBHOOK_SECRET: SECRET },
    extend(app) {
      // A JSON route outside the webhook plugin: its raw-body parser must not leak out.
      app.post("/test/json", async (request) => ({ echoed: request.body }));
    },
  });
});
afterAll(async () => {
  await h?.close();
});

function eventBody(id = `evt_${randomBytes(8).toString("hex")}`, type = "invoice.paid"): string {
  return JSON.stringify(
    {
      id,
      object: "event",
      type,
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      data: { object: { id: "in_123", object: "invoice", customer: "cus_1" } },
    },
    null,
    2,
  );
}

const nowSec = () => Math.floor(Date.now() / 1000);

async function post(body: string | Buffer, signature?: string, contentType = "application/json") {
  const res = await h.app.inject({
    method: "POST",
    url: "/stripe/webhook",
    headers: {
      "content-type": contentType,
      ...(signature === undefined ? {} : { "stripe-signature": signature }),
    },
    payload: body,
  });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

async function storedRows(id: string) {
  const all = await h.db.database.db.select().from(webhookEvents);
  return all.filter((r) => r.stripeEventId === id);
}

async function jobCount(): Promise<number> {
  const counts = await h.queues.queue("stripeWebhooks").getJobCounts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function idOf(body: string): string {
  return (JSON.parse(body) as { id: string }).id;
}

describe("POST /stripe/webhook", () => {
  it("stores a validly signed event and enqueues one job keyed by the event id", async () => {
    const body = eventBody();
    const id = idOf(body);
    const before = await jobCount();
    const res = await post(body, signStripeWebhookPayload(body, SECRET, nowSec()));
    expect(res).toEqual({ status: 200, body: { received: true, event_id: id, duplicate: false } });
    const rows = await storedRows(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: "invoice.paid", status: "received", attempts: 0 });
    expect(rows[0]?.payload).toMatchObject({ id });
    const job = await h.queues.queue("stripeWebhooks").getJob(`stripe-event-${id}`);
    expect(job?.data).toEqual({ eventId: id });
    expect(await jobCount()).toBe(before + 1);
  });

  it("the same event delivered three times: one row, one job, later deliveries flagged duplicate", async () => {
    const body = eventBody();
    const id = idOf(body);
    const before = await jobCount();
    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push(await post(body, signStripeWebhookPayload(body, SECRET, nowSec())));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.body.duplicate)).toEqual([false, true, true]);
    expect(await storedRows(id)).toHaveLength(1);
    expect(await jobCount()).toBe(before + 1);
  });

  const refusals: Array<[string, () => { body: string | Buffer; signature?: string }, string]> = [
    [
      "a tampered body",
      () => {
        const body = eventBody();
        return {
          body: body.replace('"in_123"', '"in_999"'),
          signature: signStripeWebhookPayload(body, SECRET, nowSec()),
        };
      },
      "bad_signature",
    ],
    [
      "the wrong secret",
      () => {
        const body = eventBody();
        return { body, signature: signStripeWebhookPayload(body, `whsec_${"0".repeat(32)}`, nowSec()) };
      },
      "bad_signature",
    ],
    [
      "a timestamp older than 300 s",
      () => {
        const body = eventBody();
        return { body, signature: signStripeWebhookPayload(body, SECRET, nowSec() - 301) };
      },
      "stale_signature",
    ],
    ["a missing Stripe-Signature header", () => ({ body: eventBody() }), "missing_signature"],
    ["a malformed header", () => ({ body: eventBody(), signature: "garbage" }), "bad_signature"],
    [
      "a signed body that is not JSON",
      () => ({ body: "not json {", signature: signStripeWebhookPayload("not json {", SECRET, nowSec()) }),
      "bad_payload",
    ],
    [
      "signed JSON that is not a Stripe event",
      () => {
        const body = JSON.stringify({ id: "evt_x", hello: "world" });
        return { body, signature: signStripeWebhookPayload(body, SECRET, nowSec()) };
      },
      "bad_payload",
    ],
    [
      "a body over 1 MB",
      () => {
        const body = JSON.stringify({ ...JSON.parse(eventBody()), pad: "x".repeat(1024 * 1024) });
        return { body, signature: signStripeWebhookPayload(body, SECRET, nowSec()) };
      },
      "payload_too_large",
    ],
  ];

  for (const [name, make, reason] of refusals) {
    it(`refuses ${name} with 400 and stores nothing`, async () => {
      const before = await jobCount();
      const countBefore = (await h.db.database.db.select().from(webhookEvents)).length;
      const { body, signature } = make();
      const res = await post(body, signature);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe(reason);
      expect((await h.db.database.db.select().from(webhookEvents)).length).toBe(countBefore);
      expect(await jobCount()).toBe(before);
    });
  }

  it("accepts a signature 299 s old (inside the tolerance)", async () => {
    const body = eventBody();
    expect((await post(body, signStripeWebhookPayload(body, SECRET, nowSec() - 299))).status).toBe(200);
  });

  it("verifies the exact bytes whatever the content type says", async () => {
    const body = eventBody();
    const res = await post(body, signStripeWebhookPayload(body, SECRET, nowSec()), "text/plain");
    expect(res.status).toBe(200);
  });

  it("leaves JSON parsing of other routes alone", async () => {
    const res = await h.app.inject({ method: "POST", url: "/test/json", payload: { a: 1 } });
    expect(res.json()).toEqual({ echoed: { a: 1 } });
  });

  it("takes a real delivery from the Stripe emulator over HTTP", async () => {
    const emu = await createStripeEmulator({ webhookSecret: SECRET });
    const address = await h.app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const delivery = await emu.sendWebhook(
        { type: "customer.subscription.updated", data: { object: { id: "sub_1", object: "subscription" } } },
        `${address}/stripe/webhook`,
      );
      expect(delivery.status).toBe(200);
      const rows = await storedRows(delivery.eventId);
      expect(rows[0]?.type).toBe("customer.subscription.updated");
    } finally {
      await emu.close();
    }
  });
});

describe("POST /stripe/webhook without STRIPE_WEBHOOK_SECRET", () => {
  it("answers 503 and stores nothing", async () => {
    const bare = await createWebhookHarness();
    try {
      const body = eventBody();
      const res = await bare.app.inject({
        method: "POST",
        url: "/stripe/webhook",
        headers: {
          "content-type": "application/json",
          "stripe-signature": signStripeWebhookPayload(body, SECRET, nowSec()),
        },
        payload: body,
      });
      expect(res.statusCode).toBe(503);
      expect(await bare.db.database.db.select().from(webhookEvents)).toHaveLength(0);
    } finally {
      await bare.close();
    }
  });
});
