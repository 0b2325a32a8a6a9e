import { loadConfig } from "@sparks/config";
import { executeRows } from "@sparks/db";
import { createTestDatabase, type TestDatabase } from "@sparks/testing";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pruneRetention } from "../src/use-cases/retention.use-case";

const NOW = new Date("2026-11-25T12:00:00Z");
let t: TestDatabase;

const sql = (query: string) => executeRows<Record<string, unknown>>(t.database.db, query);

function deps(retentionDays: string | null, now = NOW) {
  const config = loadConfig(retentionDays === null ? {} : { USAGE_RETENTION_DAYS: retentionDays });
  return { config, database: t.database, logger: pino({ level: "silent" }), now: () => now };
}

async function ids(query: string): Promise<string[]> {
  return (await sql(query)).map((r) => String(Object.values(r)[0])).sort();
}

beforeAll(async () => {
  t = await createTestDatabase();
  await sql(`insert into customers (id, tier) values ('c_ok', 'standard')`);
  await sql(
    `insert into customers (id, tier, status, pause_reason) values ('c_unpaid', 'standard', 'paused', 'payment_failed')`,
  );
  await sql(`insert into month_closes (month, status, closed_at) values
    ('2026-08', 'closed', '2026-09-01T00:20:00Z'), ('2026-09', 'closed', '2026-10-01T00:20:00Z'),
    ('2026-10', 'closing', null)`);
  const obs = (id: string, trace: string, at: string) =>
    `('${id}', '${trace}', 'GENERATION', '${at}', '{"customer_id": "x"}')`;
  await sql(`insert into observation_usage (observation_id, trace_id, type, start_time, metadata) values
    ${obs("o-old", "t-old", "2026-08-10T10:00:00Z")},
    ${obs("o-quar", "t-quar", "2026-09-05T10:00:00Z")},
    ${obs("o-open", "t-open", "2026-10-01T10:00:00Z")},
    ${obs("o-str1", "t-straddle", "2026-09-30T23:59:00Z")},
    ${obs("o-str2", "t-straddle", "2026-10-01T00:01:00Z")},
    ${obs("o-unpaid", "t-unpaid", "2026-08-15T10:00:00Z")}`);
  const item = (trace: string, customer: string | null, month: string, status: string) =>
    `('${trace}', 'ai_tokens', ${customer === null ? "null" : `'${customer}'`}, '${month}', '${month}-10T10:00:00Z', 5, '${status}')`;
  await sql(`insert into usage_items (trace_id, usage_category, customer_id, month, occurred_at, exact_sparks, status) values
    ${item("t-old", "c_ok", "2026-08", "sent")}, ${item("t-quar", null, "2026-09", "quarantined")},
    ${item("t-unpaid", "c_unpaid", "2026-08", "sent")}`);
  await sql(`insert into meter_events (identifier, customer_id, stripe_customer_id, usage_category, event_name, month, value,
    event_timestamp, status) values ('ai_tokens-t-old', 'c_ok', 'cus_1', 'ai_tokens', 'sparks_ai_tokens', '2026-08', 5,
    '2026-08-10T10:00:00Z', 'sent')`);
  await sql(`insert into stripe_audit_log (at, operation, identifier) values
    ('2026-08-10T10:00:01Z', 'billing.meter_events.create', 'audit-old'),
    ('2026-10-05T10:00:00Z', 'billing.meter_events.create', 'audit-open')`);
  await sql(`insert into webhook_events (stripe_event_id, type, created, payload, status, received_at) values
    ('evt_old', 'invoice.paid', '2026-08-02T00:00:00Z', '{}', 'processed', '2026-08-02T00:00:00Z'),
    ('evt_old_failed', 'invoice.paid', '2026-08-02T00:00:00Z', '{}', 'failed', '2026-08-02T00:00:00Z'),
    ('evt_open', 'invoice.paid', '2026-10-10T00:00:00Z', '{}', 'processed', '2026-10-10T00:00:00Z')`);
  await sql(`insert into sync_runs (id, trigger, status, finished_at) values
    ('run_old', 'schedule', 'completed', '2026-08-11T00:00:00Z'), ('run_live', 'schedule', 'running', null)`);
  await sql(
    `insert into sync_run_traces (sync_run_id, trace_id) values ('run_old', 't-old'), ('run_live', 't-open')`,
  );
}, 60_000);

afterAll(() => t?.drop());

it("keeps everything when USAGE_RETENTION_DAYS is not set", async () => {
  expect(await pruneRetention(deps(null))).toMatchObject({ pruned: false });
  expect(await ids(`select observation_id from observation_usage`)).toHaveLength(6);
});

it("prunes old raw data of closed months only, never the ledger", async () => {
  const result = await pruneRetention(deps("40"));
  // now − 40 days is 2026-10-16, but October is not closed: the cutoff stops at its start.
  expect(result).toMatchObject({ pruned: true, cutoff: new Date("2026-10-01T00:00:00Z") });
  expect(result.pruned && result.counts).toEqual({
    observation_usage: 1,
    sync_run_traces: 1,
    stripe_audit_log: 1,
    webhook_events: 1,
  });
  // Kept: a quarantined trace (retry re-derives it), a trace reaching into the open month,
  // the open month itself, and the trace of a customer whose payment failed.
  expect(await ids(`select observation_id from observation_usage`)).toEqual([
    "o-open",
    "o-quar",
    "o-str1",
    "o-str2",
    "o-unpaid",
  ]);
  expect(await ids(`select identifier from stripe_audit_log`)).toEqual(["audit-open"]);
  expect(await ids(`select stripe_event_id from webhook_events`)).toEqual(["evt_old_failed", "evt_open"]);
  expect(await ids(`select sync_run_id from sync_run_traces`)).toEqual(["run_live"]);
  // The ledger is never pruned.
  expect(await ids(`select trace_id from usage_items`)).toEqual(["t-old", "t-quar", "t-unpaid"]);
  expect(await ids(`select identifier from meter_events`)).toEqual(["ai_tokens-t-old"]);
});

it("prunes the previously open month once it is closed and old enough", async () => {
  await sql(
    `update month_closes set status = 'closed', closed_at = '2026-11-01T00:20:00Z' where month = '2026-10'`,
  );
  await sql(`insert into month_closes (month, status, closed_at) values ('2026-11', 'open', null)`);
  const result = await pruneRetention(deps("40", new Date("2026-12-20T00:00:00Z")));
  expect(result).toMatchObject({ pruned: true, cutoff: new Date("2026-11-01T00:00:00Z") });
  expect(await ids(`select observation_id from observation_usage`)).toEqual(["o-quar", "o-unpaid"]);
  expect(await ids(`select identifier from stripe_audit_log`)).toEqual([]);
});
