import { executeRows, type StagedObservation } from "@sparks/db";
import { afterAll, beforeAll, expect, it } from "vitest";
import { emptyCounts } from "../src/use-cases/ingest-traces.use-case";
import { ingestPipelined } from "../src/use-cases/run-sync.use-case";
import { createHarness, type Harness } from "./pipeline.harness";

/**
 * Two page transactions in flight (run-sync's `ingestPipelined`): traces that straddle two or
 * three pages, an observation repeated by the next page, and a failure mid-stream must leave the
 * same ledger as pages taken one after another — one item per trace with the whole trace's usage.
 */
const MINUTE = 60_000;
const base = Date.now() - 2 * 60 * MINUTE;
let h: Harness;

beforeAll(async () => {
  h = await createHarness({ aggregation: "off", maxRps: 1_000, stripeRateLimit: 0 });
  await h.addCustomers(["cust_pipe"]);
  await executeRows(
    h.database.database.db,
    `insert into sync_runs (id, trigger) values ('run_a', 'manual'), ('run_b', 'manual')`,
  );
}, 60_000);

afterAll(() => h?.close());

function generation(traceId: string, n: number, tokens: number): StagedObservation {
  return {
    observationId: `${traceId}-g${n}`,
    traceId,
    type: "GENERATION",
    startTime: new Date(base + n * 1000),
    userId: null,
    isRoot: n === 0,
    usageDetails: { total: tokens },
    metadata: n === 0 ? { customer_id: "cust_pipe" } : null,
    costUsd: null,
  };
}

async function* pagesOf(pages: StagedObservation[][], failAt?: number): AsyncGenerator<StagedObservation[]> {
  for (const [i, page] of pages.entries()) {
    if (i === failAt) throw new Error("Langfuse went away");
    yield page;
  }
}

async function ledger(): Promise<Map<string, string>> {
  const rows = await executeRows<{ trace_id: string; quantity: string }>(
    h.database.database.db,
    `select trace_id, quantity::text as quantity from usage_items where usage_category = 'ai_tokens' and quantity_revision = 0`,
  );
  return new Map(rows.map((r) => [r.trace_id, r.quantity]));
}

async function run(syncRunId: string, pages: StagedObservation[][], failAt?: number) {
  const counts = emptyCounts();
  await ingestPipelined(h.deps, syncRunId, pagesOf(pages, failAt), counts, async () => {});
  return counts;
}

// a: pages 1–2; b: pages 2–4 (three pages); c: page 3 only, also repeated on page 4; d: page 5.
const a = [generation("a", 0, 10), generation("a", 1, 20)];
const b = [generation("b", 0, 1), generation("b", 1, 2), generation("b", 2, 4), generation("b", 3, 8)];
const c = [generation("c", 0, 100)];
const d = [generation("d", 0, 1000)];
const pages = [
  [a[0]!],
  [a[1]!, b[0]!],
  [b[1]!, c[0]!],
  [b[2]!, c[0]!, b[3]!],
  [...d],
] as StagedObservation[][];

it("derives each trace once from all of its pages, with every trace recorded for the run", async () => {
  // Fails while page 4 is read: pages 1–2 may be committed with b deferred to later pages.
  await expect(run("run_a", pages, 3)).rejects.toThrow("Langfuse went away");
  // The retry reads everything again: b's later rows are new, so b is derived whole.
  const counts = await run("run_a", pages);
  expect(await ledger()).toEqual(
    new Map([
      ["a", "30"],
      ["b", "15"],
      ["c", "100"],
      ["d", "1000"],
    ]),
  );
  const traces = await executeRows<{ trace_id: string }>(
    h.database.database.db,
    `select trace_id from sync_run_traces where sync_run_id = 'run_a' order by trace_id`,
  );
  expect(traces.map((t) => t.trace_id)).toEqual(["a", "b", "c", "d"]);
  expect(counts.observations).toBe(9);
});

it("a re-read changes nothing; a late observation re-derives its trace", async () => {
  const before = await executeRows(
    h.database.database.db,
    `select id, updated_at from usage_items order by id`,
  );
  await run("run_b", pages);
  expect(
    await executeRows(h.database.database.db, `select id, updated_at from usage_items order by id`),
  ).toEqual(before);
  const late = generation("b", 9, 16);
  await run("run_b", [[...pages[3]!], [late, d[0]!]]);
  expect((await ledger()).get("b")).toBe("31");
});
