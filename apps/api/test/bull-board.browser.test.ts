import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { executeRows } from "@sparks/db";
import { createRedisConnection } from "@sparks/queues";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src";
import { launchChromium, skipBrowserTests, type TestBrowser } from "./browser/chromium";
import { seedUsageItems } from "./browser/usage-seed";
import { createSyncHarness, type SyncHarness } from "./usage-sync.harness";

const skip = skipBrowserTests("Bull Board browser test");

const SCREENSHOT = fileURLToPath(new URL("./output/bull-board.png", import.meta.url));
const OPERATOR = { user: "operator", password: "correct-horse-battery" };
const TRACE = "trace-board-retry";
const BOGUS_STRIPE_ID = "cus_board_unknown";

let h: SyncHarness;
let board: FastifyInstance;
let boardRedis: Redis;
let browser: TestBrowser;
let origin: string;
let customer: { id: string; stripeId: string };
let month: string;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function item(): Promise<{
  id: string;
  status: string;
  reason: string | null;
  identifier: string | null;
}> {
  const rows = await executeRows<{ id: unknown; status: unknown; reason: unknown; identifier: unknown }>(
    h.db.database.db,
    `select u.id, u.status, u.reason, m.identifier from usage_items u
       left join meter_events m on m.id = u.meter_event_id where u.trace_id = '${TRACE}'`,
  );
  const row = rows[0];
  if (!row) throw new Error("seeded item missing");
  return {
    id: String(row.id),
    status: String(row.status),
    reason: row.reason === null ? null : String(row.reason),
    identifier: row.identifier === null ? null : String(row.identifier),
  };
}

describe.skipIf(skip)("Bull Board in a real browser (Debian chromium)", () => {
  beforeAll(async () => {
    h = await createSyncHarness();
    customer = await h.addCustomer({ id: "cust_board" });
    // Linked to a Stripe customer the emulator doesn't know: Stripe answers 400 for good.
    await executeRows(
      h.db.database.db,
      `update customers set stripe_customer_id = '${BOGUS_STRIPE_ID}' where id = '${customer.id}'`,
    );
    const at = new Date(Date.now() - 3_600_000);
    month = at.toISOString().slice(0, 7);
    await seedUsageItems(h.db.database.db, { id: customer.id, tier: "standard" }, [
      {
        traceId: TRACE,
        category: "ai_tokens",
        at: at.toISOString(),
        quantity: "420",
        unit: "tokens",
        exact: "42",
      },
    ]);
    // The harness's app has no operator configured; the board's app shares its database and queues.
    boardRedis = createRedisConnection(h.config.redisUrl ?? "redis://127.0.0.1:6379", "producer");
    board = await buildApp({
      config: { ...h.config, admin: OPERATOR },
      database: h.db.database,
      redis: boardRedis,
      queues: h.queues,
      logger: false,
    });
    await board.listen({ host: "127.0.0.1", port: 0 });
    origin = `http://127.0.0.1:${(board.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await board?.close();
    boardRedis?.disconnect();
    await h?.close();
  });

  it("answers 401 with a Basic challenge to a browser without credentials", async () => {
    const page = await browser.context.newPage();
    // Chromium aborts a navigation answered 401 + Basic challenge when it has nothing to offer
    // (ERR_INVALID_AUTH_CREDENTIALS), so the answer is read from the response event.
    const answered = page.waitForResponse((r) => r.url() === `${origin}/admin/queues`);
    await expect(page.goto(`${origin}/admin/queues`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    const res = await answered;
    expect(res.status()).toBe(401);
    expect(await res.headerValue("www-authenticate")).toMatch(/^Basic realm="Sparks"/);
    expect(await res.text()).not.toContain("Sparks queues");
    await page.close();
  });

  it("shows the failed push job; its Retry button sends the item to Stripe", async () => {
    h.startWorkers();
    const group = { customerId: customer.id, category: "ai_tokens" as const, month };
    await h.queues.add("pushMeterEvents", group);
    const queue = h.queues.queue("pushMeterEvents");
    await waitFor("push job in the failed set", async () => (await queue.getFailedCount()) === 1);
    const failed = await item();
    expect(failed.status).toBe("failed");
    expect(failed.reason).toMatch(/No such customer/);
    expect(failed.identifier).not.toBeNull();
    expect(h.stripeEmulator.recording.meterEvents()).toEqual([]);

    // The operator fixes the cause: the customer points at its real Stripe customer again.
    await executeRows(
      h.db.database.db,
      `update customers set stripe_customer_id = '${customer.stripeId}' where id = '${customer.id}'`,
    );

    const page = await browser.context.newPage();
    const basic = Buffer.from(`${OPERATOR.user}:${OPERATOR.password}`).toString("base64");
    await page.setExtraHTTPHeaders({ authorization: `Basic ${basic}` });
    const res = await page.goto(`${origin}/admin/queues/queue/push-meter-events?status=failed`);
    expect(res?.status()).toBe(200);
    await page.getByText(`ui_${failed.id}`).first().waitFor({ timeout: 15_000 });
    await mkdir(fileURLToPath(new URL("./output/", import.meta.url)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`Bull Board screenshot: ${SCREENSHOT}`);

    // The card's actions are icon buttons; their name is the tooltip shown on hover.
    const retry = page.locator("[data-base-ui-tooltip-trigger] button").first();
    await retry.hover();
    await page.getByText("Retry", { exact: true }).waitFor({ timeout: 5_000 });
    await retry.click();
    // Bull Board may ask to confirm ("Are you sure that you want to retry this job?").
    const confirm = page.getByRole("alertdialog").or(page.getByRole("dialog"));
    if (await confirm.isVisible().catch(() => false)) {
      await confirm
        .getByRole("button", { name: /confirm|retry|yes|ok/i })
        .first()
        .click();
    }
    await waitFor("the retried job to finish", async () => {
      const counts = await queue.getJobCounts("failed", "completed", "waiting", "active", "delayed");
      return counts.failed === 0 && counts.completed === 1;
    });
    const after = await item();
    const sent = h.stripeEmulator.recording.meterEvents().map((e) => e.identifier);
    const [rerun] = await queue.getCompleted();
    // The retried job resends the group's failed event (same identifier, same value).
    expect(rerun?.returnvalue).toMatchObject({ events: 1 });
    expect({ status: after.status, identifier: after.identifier, sent }).toEqual({
      status: "sent",
      identifier: failed.identifier,
      sent: [failed.identifier],
    });
    await page.close();
  }, 60_000);
});
