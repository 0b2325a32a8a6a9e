import { monthOf, monthRange, nextMonth, prevMonth } from "@sparks/core";
import { executeRows, MonthCloseRepository } from "@sparks/db";
import { afterAll, beforeAll, expect, it } from "vitest";
import { closeMonth, enqueueDueMonthCloses } from "../src/use-cases/close-month.use-case";
import { createHarness, drained, type Harness, syncStatus, waitFor } from "./pipeline.harness";

const MIN = 60_000;
const HOUR = 60 * MIN;
// The month before the real one: the Stripe emulator runs on the real clock and accepts
// timestamps up to 35 days old, so M's last day and N's first hours are always sendable.
const M = prevMonth(monthOf(new Date()));
const N = nextMonth(M);
const mEnd = monthRange(M).end.getTime();
let clock = mEnd - 12 * HOUR;
let h: Harness;
let stripeId = "";

function trace(id: string, atMs: number, tokens: number, visibleAtMs?: number) {
  const visible = visibleAtMs === undefined ? {} : { visibleAt: new Date(visibleAtMs) };
  h.langfuse.store.addTrace(
    { id, timestamp: new Date(atMs), userId: "cust_me", metadata: { customer_id: "cust_me" }, ...visible },
    [
      {
        id: `${id}-gen`,
        traceId: id,
        type: "GENERATION",
        startTime: new Date(atMs),
        endTime: new Date(atMs + 1_000),
        usageDetails: { input: tokens - 100, output: 100, total: tokens },
        metadata: { customer_id: "cust_me" },
        ...visible,
      },
    ],
  );
}

async function sync(id: string, window?: { from: Date; to: Date }): Promise<void> {
  await h.deps.queues.add(
    "syncUsage",
    {
      syncId: id,
      trigger: "manual",
      ...(window ? { from: window.from.toISOString(), to: window.to.toISOString() } : {}),
    },
    { jobId: id },
  );
  await waitFor(id, async () => (await syncStatus(h, id)) === "completed");
  await waitFor("drained", () => drained(h));
}

async function item(traceId: string) {
  const rows = await executeRows<Record<string, unknown>>(
    h.deps.database.db,
    `select month, status, reason, late_from, sent_sparks from usage_items where trace_id = '${traceId}'`,
  );
  expect(rows).toHaveLength(1);
  return rows[0] as Record<string, unknown>;
}

beforeAll(async () => {
  h = await createHarness({ now: () => new Date(clock), langfuseNow: () => new Date(clock) });
  const [c] = await h.addCustomers(["cust_me"]);
  stripeId = c?.stripeId ?? "";
  trace("me-early", mEnd - 14 * HOUR, 10_000); // 1,000 Sparks, synced well before the end
  trace("me-lastmin", mEnd - 10 * MIN, 5_000, mEnd + 5 * MIN); // inside the lag: the final sync finds it
  trace("me-late", mEnd - 5 * MIN, 3_000, mEnd + 2 * HOUR); // appears after the close
  trace("me-next", mEnd + 30 * MIN, 2_000); // ordinary usage of N
  h.startWorkers();
}, 60_000);

afterAll(() => h?.close());

it("closes M on time: not before end + lag, then after a final sync and a full flush", async () => {
  await sync("me_sync_1", { from: new Date(mEnd - 48 * HOUR), to: new Date(clock) });
  expect((await item("me-early")).status).toBe("sent");

  clock = mEnd + 10 * MIN; // the lag (15 min) has not passed yet
  expect(await enqueueDueMonthCloses(h.deps)).toEqual([]);
  const early = await closeMonth(h.deps, M);
  expect(early.status).toBe("open");
  expect(await new MonthCloseRepository(h.deps.database.db).find(M)).toBeNull();

  clock = mEnd + 16 * MIN; // the first hourly check after end + lag
  expect(await enqueueDueMonthCloses(h.deps)).toEqual([M]);
  await waitFor(
    "M closed",
    async () => (await new MonthCloseRepository(h.deps.database.db).find(M))?.status === "closed",
  );
  const state = await new MonthCloseRepository(h.deps.database.db).find(M);
  expect(state?.closedAt?.toISOString()).toBe(new Date(mEnd + 16 * MIN).toISOString());
  // The final sync read the minute-before-midnight trace, and it was sent before closing.
  expect(await item("me-lastmin")).toMatchObject({ month: M, status: "sent" });
  const events = h.stripeEmulator.recording.meterEvents().map((e) => e.identifier);
  expect(events).toEqual(["ai_tokens-me-early", "ai_tokens-me-lastmin"]);
  // A repeated close is a no-op.
  expect(await closeMonth(h.deps, M)).toMatchObject({ status: "closed", alreadyClosed: true });
});

it("bills usage of M that appears after the close once, as a late line of N", async () => {
  clock = mEnd + 3 * HOUR; // me-late is visible now; the default sync re-scans from the watermark
  await sync("me_sync_2");
  clock = mEnd + 4 * HOUR;
  await sync("me_sync_3"); // overlapping re-scan: reads me-late again
  await sync("me_sync_4", { from: new Date(mEnd - 24 * HOUR), to: new Date(clock) }); // and a manual re-read

  const late = await item("me-late");
  expect(late.month).toBe(N);
  expect(late.status).toBe("sent");
  expect(String(late.reason)).toContain(`late usage from ${M} billed in ${N}`);
  expect(String(late.reason)).toContain(new Date(mEnd - 5 * MIN).toISOString().slice(0, 19));
  expect(new Date(String(late.late_from)).getTime()).toBe(mEnd - 5 * MIN);
  expect(await item("me-next")).toMatchObject({ month: N, status: "sent", reason: null });

  const events = h.stripeEmulator.recording.meterEvents();
  const lateEvents = events.filter((e) => e.identifier === "ai_tokens-me-late");
  expect(lateEvents).toHaveLength(1); // billed once
  // Its timestamp moved into the open period, so N's invoice carries it.
  expect(lateEvents[0]?.timestamp).toBe(monthRange(N).start.getTime() / 1000);
  // Nothing lost: every token is in Stripe, M's period holds exactly M's on-time usage.
  expect(h.stripeEmulator.recording.meterTotal(stripeId, "sparks_ai_tokens")).toBe(1_000 + 500 + 300 + 200);
  const inM = events.filter((e) => e.timestamp < mEnd / 1000).reduce((a, e) => a + e.value, 0);
  expect(inM).toBe(1_500);
});

it("reports usage found after the close but past Stripe's 35-day limit as unbillable, not lost", async () => {
  clock = mEnd + 2 * 24 * HOUR;
  const oldAt = clock - 36 * 24 * HOUR;
  trace("me-too-old", oldAt, 4_000);
  await sync("me_sync_5", { from: new Date(oldAt - HOUR), to: new Date(oldAt + HOUR) });
  const old = await item("me-too-old");
  expect(old.status).toBe("unbillable");
  expect(String(old.reason)).toContain("35-day");
  expect(h.stripeEmulator.recording.meterEvents().some((e) => e.identifier === "ai_tokens-me-too-old")).toBe(
    false,
  );
});
