import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type EmulatedObservation,
  type GeneratedTraceRecord,
  generateFlowiseTraffic,
} from "@sparks/emulators";
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import {
  createHarness,
  drained,
  expectedTotals,
  type Harness,
  stripeTotals,
  syncStatus,
  waitFor,
} from "./pipeline.harness";

/**
 * Bad inputs that used to wedge a whole page (issue 9 item 2 findings), now guarded:
 * - a NUL character (\u0000) in any staged string: Postgres jsonb/text refuse it, the page's
 *   insert fails, the sync fails on every retry, and the good traces on that page are never billed;
 * - a huge or numeric-string usage value that core quarantines: the pipeline still computes
 *   exact_sparks for the quarantined row and overflows numeric(38, 9), with the same effect.
 * Each case runs with good traffic on its page. Fixed by scrubbing NUL in the Langfuse adapter
 * and by not storing an implausible at-risk amount for a quarantined value.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const KNOWN = fileURLToPath(new URL("./fixtures/bad-input/known-bugs/", import.meta.url));
const caseSchema = z.object({
  name: z.string(),
  trace: z.record(z.string(), z.unknown()),
  observations: z.array(z.record(z.string(), z.unknown())),
});

function load(file: string): z.infer<typeof caseSchema>[] {
  return z.object({ cases: z.array(caseSchema) }).parse(JSON.parse(readFileSync(KNOWN + file, "utf8"))).cases;
}

const now = Date.now();
const window = { from: new Date(now - 3 * HOUR), to: new Date(now - 30 * MINUTE) };
let h: Harness;

beforeAll(async () => {
  h = await createHarness({ aggregation: "off", maxRps: 1_000, stripeRateLimit: 0 });
  await h.addCustomers(["cust_bad"]);
  h.startWorkers();
}, 60_000);

afterAll(() => h?.close());

async function goodTrafficSurvives(file: string, seed: number): Promise<void> {
  // Each bug on its own: the previous case's traces must not be what fails this sync.
  h.langfuse.store.clear();
  const good = generateFlowiseTraffic({
    traces: 40,
    customers: [`cust_k${seed}`],
    from: new Date(now - 2 * HOUR),
    to: new Date(now - HOUR),
    seed,
  });
  const fixtures = await h.addCustomers([`cust_k${seed}`]);
  h.langfuse.store.addMany(good);
  const bad: GeneratedTraceRecord[] = load(file).map((c, i) => {
    const id = typeof c.trace.id === "string" ? c.trace.id : `known-${seed}-${i}`;
    const at = new Date(now - 90 * MINUTE + i);
    return {
      kind: "chat",
      trace: { ...c.trace, id, timestamp: at } as GeneratedTraceRecord["trace"],
      observations: c.observations.map((o, j) => ({
        id: `${id}-o${j}`,
        startTime: at,
        metadata: c.trace.metadata,
        ...o,
      })) as unknown as EmulatedObservation[],
    };
  });
  h.langfuse.store.addMany(bad);
  const syncId = `sync_known_${seed}`;
  await h.deps.queues.add(
    "syncUsage",
    { syncId, from: window.from.toISOString(), to: window.to.toISOString(), trigger: "manual" },
    { jobId: syncId },
  );
  await waitFor("sync", async () => (await syncStatus(h, syncId)) === "completed", 25_000);
  await waitFor("drained", () => drained(h), 25_000);
  const totals = stripeTotals(h.stripeEmulator);
  for (const [key, value] of expectedTotals(good, fixtures).wholeByMeter) expect(totals.get(key)).toBe(value);
}

it("a NUL character in a trace id or metadata value does not block its page", async () => {
  await goodTrafficSurvives("nul-bytes.json", 1);
}, 40_000);

it("a huge quarantined usage value does not overflow exact_sparks nor block its page", async () => {
  await goodTrafficSurvives("numeric-overflow.json", 2);
}, 40_000);
