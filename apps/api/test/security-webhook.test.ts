import { randomBytes } from "node:crypto";
import { webhookEvents } from "@sparks/db";
import { signStripeWebhookPayload } from "@sparks/emulators";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createWebhookHarness, type WebhookHarness } from "./webhook.harness";

/**
 * Issue 9 item 5, the attacks webhook.test.ts does not already cover: a genuine delivery's
 * header replayed later or on another event, a multi-signature header, 1 MB unsigned, binary
 * and form bodies. Each: 400 and nothing stored, no job.
 */

const SECRET = `whsec_${randomBytes(16).toString("hex")}`;
let h: WebhookHarness;

beforeAll(async () => {
  h = await createWebhookHarness({ env: { STRIPE_WEBHOOK_SECRET: SECRET } });
});
afterAll(async () => {
  await h?.close();
});

const nowSec = () => Math.floor(Date.now() / 1000);

function event(id = `evt_${randomBytes(8).toString("hex")}`): string {
  return JSON.stringify({
    id,
    object: "event",
    type: "invoice.paid",
    created: nowSec(),
    livemode: false,
    data: { object: { id: "in_1", object: "invoice", customer: "cus_1" } },
  });
}

async function post(payload: string | Buffer, headers: Record<string, string>) {
  return h.app.inject({ method: "POST", url: "/stripe/webhook", headers, payload });
}

async function stored(): Promise<number> {
  return (await h.db.database.db.select().from(webhookEvents)).length;
}

async function jobs(): Promise<number> {
  const counts = await h.queues.queue("stripeWebhooks").getJobCounts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function refused(payload: string | Buffer, headers: Record<string, string>): Promise<string> {
  const [rows, queued] = [await stored(), await jobs()];
  const res = await post(payload, headers);
  expect(res.statusCode).toBe(400);
  expect(await stored()).toBe(rows);
  expect(await jobs()).toBe(queued);
  return (res.json() as { error: string }).error;
}

it("a genuine delivery replayed after the tolerance is refused, though the first copy was accepted", async () => {
  const body = event();
  const at = nowSec() - 290;
  const header = signStripeWebhookPayload(body, SECRET, at);
  const first = await post(body, { "content-type": "application/json", "stripe-signature": header });
  expect(first.statusCode).toBe(200);
  // The same bytes and header, 400 s after signing (an attacker who captured the delivery):
  const later = signStripeWebhookPayload(body, SECRET, nowSec() - 400);
  expect(await refused(body, { "content-type": "application/json", "stripe-signature": later })).toBe(
    "stale_signature",
  );
});

it("a genuine signature attached to another event is refused", async () => {
  const genuine = event();
  const header = signStripeWebhookPayload(genuine, SECRET, nowSec());
  const forged = event("evt_forged_refund");
  expect(await refused(forged, { "content-type": "application/json", "stripe-signature": header })).toBe(
    "bad_signature",
  );
  const rows = await h.db.database.db.select().from(webhookEvents);
  expect(rows.some((r) => r.stripeEventId === "evt_forged_refund")).toBe(false);
});

it("a header with one v1 valid for another body and one forged is refused", async () => {
  const genuine = event();
  const valid = signStripeWebhookPayload(genuine, SECRET, nowSec());
  const v1 = /v1=([0-9a-f]+)/.exec(valid)?.[1] ?? "";
  const header = `t=${nowSec()},v1=${v1},v1=${"0".repeat(64)}`;
  expect(await refused(event(), { "content-type": "application/json", "stripe-signature": header })).toBe(
    "bad_signature",
  );
});

it("1 MB unsigned: 400 (not 413 or 500), nothing stored", async () => {
  const big = JSON.stringify({ id: "evt_big", pad: "x".repeat(1024 * 1024) });
  const error = await refused(big, { "content-type": "application/json" });
  expect(["payload_too_large", "missing_signature"]).toContain(error);
});

it("binary and form bodies, even correctly signed, are refused as bad payloads", async () => {
  const binary = randomBytes(512);
  const sig = signStripeWebhookPayload(binary.toString("utf8"), SECRET, nowSec());
  const binaryError = await refused(binary, {
    "content-type": "application/octet-stream",
    "stripe-signature": sig,
  });
  expect(["bad_payload", "bad_signature"]).toContain(binaryError);
  const form = "id=evt_form&type=invoice.paid";
  expect(
    await refused(form, {
      "content-type": "application/x-www-form-urlencoded",
      "stripe-signature": signStripeWebhookPayload(form, SECRET, nowSec()),
    }),
  ).toBe("bad_payload");
});
