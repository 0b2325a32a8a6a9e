import { CustomerRepository, type CustomerRow, WebhookEventRepository } from "@sparks/db";
import { afterAll, beforeAll, expect, it } from "vitest";
import { QUOTA_CUSTOMER_TTL_MS } from "../src/use-cases/quota.use-case";
import { type ApiHarness, createApiHarness } from "./api-harness";

let h: ApiHarness;
let customer: CustomerRow;

beforeAll(async () => {
  h = await createApiHarness();
  customer = await new CustomerRepository(h.db.database.db).insert({
    auth0UserId: "auth0|wq",
    stripeCustomerId: "cus_wq",
    tier: "standard",
  });
});
afterAll(async () => {
  await h?.close();
});

async function quota() {
  const token = await h.auth0.mintToken({ sub: "auth0|wq" });
  const res = await h.app.inject({
    method: "GET",
    url: "/quota",
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.statusCode).toBe(200);
  return res.json() as { allowed: boolean; reason: string | null };
}

const pastCache = () => new Promise((r) => setTimeout(r, QUOTA_CUSTOMER_TTL_MS + 100));

// The webhook worker (apps/worker, tested there against the Stripe emulator) pauses and resumes
// through WebhookEventRepository.setPaymentPause; this checks that `/quota` sees those writes.
it("/quota answers payment_failed while the webhook worker's pause holds, and allows again after", async () => {
  const events = new WebhookEventRepository(h.db.database.db);
  expect(await quota()).toMatchObject({ allowed: true });
  expect(await events.setPaymentPause(customer.id, true)).toBe(true);
  await pastCache();
  expect(await quota()).toMatchObject({ allowed: false, reason: "payment_failed" });
  expect(await events.setPaymentPause(customer.id, false)).toBe(true);
  await pastCache();
  expect(await quota()).toMatchObject({ allowed: true });
});
