import { type AlertInput, enqueueAlert, quotaAlert } from "@sparks/alerts";
import { executeRows } from "@sparks/db";
import { createTestSlack, createTestSmtp, type TestSlack, type TestSmtp } from "@sparks/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AlertsHarness, createAlertsHarness } from "./alerts.harness";

// Retries in milliseconds instead of the catalog's 10 s exponential backoff.
const fastRetry = { job: { attempts: 6, backoff: { type: "fixed", delay: 50 } } } as const;

async function dedupeKeys(h: AlertsHarness): Promise<string[]> {
  const rows = await executeRows<{ dedupe_key: string }>(
    h.db.database.db,
    "select dedupe_key from alerts_sent order by dedupe_key",
  );
  return rows.map((r) => r.dedupe_key);
}

describe("alerts worker with Slack and SMTP configured", () => {
  let slack: TestSlack;
  let smtp: TestSmtp;
  let h: AlertsHarness;
  beforeEach(async () => {
    slack = await createTestSlack();
    smtp = await createTestSmtp();
    h = await createAlertsHarness({
      env: { SLACK_WEBHOOK_URL: slack.url, SMTP_URL: smtp.url, ALERT_EMAIL_TO: "ops@example.test" },
    });
  });
  afterEach(async () => {
    await h.close();
    await slack.close();
    await smtp.close();
  });

  it("the same quota_80 enqueued twice reaches each channel once", async () => {
    const alert = quotaAlert({
      customerId: "cus_1",
      threshold: 80,
      month: "2026-11",
      usedSparks: 8000,
      limitSparks: 10000,
    });
    await enqueueAlert(h.queues, alert);
    await enqueueAlert(h.queues, alert);
    await h.settled(2);

    expect(slack.posts()).toHaveLength(1);
    expect(JSON.stringify(slack.posts()[0]?.body)).toContain("80% of its free quota");
    expect(smtp.messages()).toHaveLength(1);
    expect(smtp.messages()[0]?.subject).toContain("cus_1");
    expect(await dedupeKeys(h)).toEqual([
      "quota:80:cus_1:2026-11",
      "quota:80:cus_1:2026-11#email",
      "quota:80:cus_1:2026-11#slack",
    ]);
    // The 100% threshold is another key: it goes out too.
    await enqueueAlert(h.queues, {
      ...alert,
      ...quotaAlert({
        customerId: "cus_1",
        threshold: 100,
        month: "2026-11",
        usedSparks: 10000,
        limitSparks: 10000,
      }),
    });
    await h.settled(3);
    expect(slack.posts()).toHaveLength(2);
    expect(smtp.messages()).toHaveLength(2);
  });

  it("Slack failing twice then succeeding: delivered once after retries, e-mail not repeated", async () => {
    slack.failNext(2, 503);
    await enqueueAlert(
      h.queues,
      {
        kind: "sync_failures",
        dedupeKey: "sync-failures:run_1",
        title: "Sync failing",
        text: "3 runs in a row failed",
      },
      fastRetry,
    );
    await h.settled(1);

    expect(slack.attempts()).toBe(3);
    expect(slack.posts()).toHaveLength(1);
    expect(smtp.messages()).toHaveLength(1);
    const job = (await h.queues.queue("alerts").getJobs(["completed"]))[0];
    expect(job?.attemptsMade).toBe(3);
    expect(job?.returnvalue).toEqual({ status: "delivered", channels: ["slack"] });
  });

  it("a permanent Slack refusal fails the job at once; a retry after the fix sends only Slack", async () => {
    slack.failNext(1, 404);
    await enqueueAlert(
      h.queues,
      { kind: "webhook_failure", dedupeKey: "webhook:evt_1", title: "Webhook failed", text: "evt_1" },
      fastRetry,
    );
    await h.settled(1);
    const failed = await h.queues.queue("alerts").getJobs(["failed"]);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.attemptsMade).toBe(1);
    expect(failed[0]?.failedReason).toContain("slack: webhook answered 404");
    expect(smtp.messages()).toHaveLength(1);

    // What Bull Board's retry does.
    await failed[0]?.retry("failed");
    await h.settled(1);
    expect(slack.posts()).toHaveLength(1);
    expect(smtp.messages()).toHaveLength(1);
  });
});

describe("alerts worker with no channel configured", () => {
  let h: AlertsHarness;
  beforeAll(async () => {
    h = await createAlertsHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("writes the alert to the log only, once per key", async () => {
    const alert: AlertInput = {
      kind: "payment_failed",
      dedupeKey: "payment:in_1",
      customerId: "cus_9",
      title: "Payment failed for cus_9",
      text: "Invoice in_1 could not be charged",
    };
    await enqueueAlert(h.queues, alert);
    await enqueueAlert(h.queues, alert);
    await h.settled(2);
    const logged = h.logs().filter((l) => String(l.msg).startsWith("alert (no channel configured"));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ alertKind: "payment_failed", title: "Payment failed for cus_9" });
    expect(await dedupeKeys(h)).toEqual(["payment:in_1"]);
  });

  it("folds further alerts without a channel into a count instead of one warning each", async () => {
    for (const n of [2, 3, 4]) {
      await enqueueAlert(h.queues, {
        kind: "payment_failed",
        dedupeKey: `payment:in_${n}`,
        customerId: "cus_9",
        title: `Payment failed for cus_9 (${n})`,
        text: "Invoice could not be charged",
      });
    }
    await h.settled(5);
    const logged = h.logs().filter((l) => String(l.msg).startsWith("alert (no channel configured"));
    expect(logged).toHaveLength(1);
  });
});

describe("rate limit", () => {
  let slack: TestSlack;
  let h: AlertsHarness;
  // Pinned 400 ms before the hour ends, so the hour's summary is due almost at once.
  const pinned = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 - 400);
  beforeAll(async () => {
    slack = await createTestSlack();
    h = await createAlertsHarness({
      env: { SLACK_WEBHOOK_URL: slack.url },
      options: { perKindPerHour: 3 },
      now: () => pinned,
    });
  });
  afterAll(async () => {
    await h.close();
    await slack.close();
  });

  it("folds a burst beyond the hourly budget into one summary line", async () => {
    for (let i = 1; i <= 7; i += 1) {
      await enqueueAlert(h.queues, {
        kind: "usage_spike",
        dedupeKey: `spike:cus_${i}:h`,
        customerId: `cus_${i}`,
        title: `Usage spike for cus_${i}`,
        text: "5x the trailing average",
      });
    }
    // 7 alerts + 1 summary job.
    await h.settled(8);
    const texts = slack.posts().map((p) => (p.body as { text: string }).text);
    expect(texts).toHaveLength(4);
    expect(texts.slice(0, 3).every((t) => t.includes("Usage spike for cus_"))).toBe(true);
    const summary = texts[3] ?? "";
    expect(summary).toContain("4 more usage_spike alerts were not sent individually");
    for (const i of [4, 5, 6, 7]) expect(summary).toContain(`Usage spike for cus_${i}`);
  });
});
