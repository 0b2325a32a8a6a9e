import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generateFlowiseTraffic, LangfuseEmulatorInputError, LangfuseStore } from "../src/index";

const SAMPLE = fileURLToPath(new URL("../fixtures/langfuse/sample-traces.json", import.meta.url));
const WINDOW = { from: "2026-10-01T00:00:00Z", to: "2026-10-31T00:00:00Z" };

describe("Langfuse emulator seeding", () => {
  it("generates the same traffic for the same seed and different traffic for another", () => {
    const a = generateFlowiseTraffic({ traces: 200, ...WINDOW, seed: 5, badShare: 0.2 });
    const b = generateFlowiseTraffic({ traces: 200, ...WINDOW, seed: 5, badShare: 0.2 });
    const c = generateFlowiseTraffic({ traces: 200, ...WINDOW, seed: 6, badShare: 0.2 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it("produces chat, compute and storage traces shaped like Flowise → Langfuse", () => {
    const traffic = generateFlowiseTraffic({ traces: 2000, customers: 10, ...WINDOW, seed: 11 });
    const kinds = new Map<string, number>();
    for (const r of traffic) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
    expect(kinds.get("chat")!).toBeGreaterThan(1500);
    expect(kinds.get("compute")!).toBeGreaterThan(200);
    expect(kinds.get("storage")!).toBeGreaterThan(40);

    for (const r of traffic) {
      const meta = r.trace.metadata as Record<string, unknown>;
      const ts = Date.parse(String((r.trace.timestamp as Date).toISOString()));
      expect(ts).toBeGreaterThanOrEqual(Date.parse(WINDOW.from));
      expect(ts).toBeLessThan(Date.parse(WINDOW.to));
      expect(meta.customer_id).toBe(r.trace.userId);
      expect(["free", "standard", "enterprise"]).toContain(meta.subscription_tier);
      expect(typeof meta.cost_center).toBe("string");
      if (r.kind === "chat") {
        expect(r.trace.sessionId).toMatch(/^chat-/);
        const generations = r.observations.filter((o) => o.type === "GENERATION");
        expect(generations.length).toBeGreaterThan(0);
        for (const g of generations) {
          const u = g.usageDetails!;
          expect(Number.isInteger(u.input) && Number.isInteger(u.output)).toBe(true);
          expect(u.total).toBe(u.input! + u.output!);
          expect(g.totalCost).toBeCloseTo(g.costDetails!.total!, 12);
          expect(g.model).toBeTruthy();
          expect(g.parentObservationId).toBe(r.observations[0]!.id);
        }
      }
      if (r.kind === "compute") expect(typeof meta.compute_ms).toBe("number");
      if (r.kind === "storage") expect(typeof meta.storage_gb_hours).toBe("number");
      // v4-style propagation: every observation sees the trace's customer metadata.
      for (const o of r.observations) expect(o.metadata).toBe(r.trace.metadata);
    }
    expect(
      traffic.some((r) => !Number.isInteger((r.trace.metadata as { compute_ms?: number }).compute_ms ?? 0)),
    ).toBe(true);
  });

  it("marks a badShare of traces with each kind of defect", () => {
    const traffic = generateFlowiseTraffic({ traces: 3000, ...WINDOW, seed: 3, badShare: 0.1 });
    const bad = traffic.filter((r) => r.defect);
    expect(bad.length).toBeGreaterThan(220);
    expect(bad.length).toBeLessThan(380);
    const defects = new Set(bad.map((r) => r.defect));
    expect(defects).toEqual(
      new Set([
        "string_number",
        "negative",
        "not_a_number",
        "huge_value",
        "unknown_usage_category",
        "missing_customer",
        "unknown_customer",
      ]),
    );
    for (const r of bad) {
      const meta = r.trace.metadata as Record<string, unknown>;
      const quantity = meta.compute_ms ?? meta.storage_gb_hours;
      if (r.defect === "string_number") expect(quantity).toMatch(/^[\d.]+k$/);
      if (r.defect === "missing_customer")
        expect([meta.customer_id, r.trace.userId]).toEqual([undefined, null]);
      if (r.defect === "unknown_usage_category") expect(meta.usage_category).toBe("gpu_seconds");
      if (r.defect === "not_a_number") expect(typeof quantity === "number").toBe(false);
    }
  });

  it("lateShare gives observations an explicit visibleAt after they end", () => {
    const traffic = generateFlowiseTraffic({
      traces: 300,
      ...WINDOW,
      seed: 8,
      lateShare: 0.5,
      maxLateMs: 900_000,
    });
    const late = traffic.flatMap((r) => r.observations).filter((o) => o.visibleAt);
    expect(late.length).toBeGreaterThan(100);
    for (const o of late) {
      const lag = (o.visibleAt as Date).getTime() - (o.endTime as Date).getTime();
      expect(lag).toBeGreaterThanOrEqual(60_000);
      expect(lag).toBeLessThanOrEqual(900_000);
    }
  });

  it("loads traces from a JSON file and rejects malformed ones", async () => {
    const store = new LangfuseStore();
    expect(await store.loadFromJson(SAMPLE)).toBe(2);
    expect(store.traceCount).toBe(2);
    expect(store.observationCount).toBe(3);
    expect(store.getObservation("obs-gen-1")?.trace.id).toBe("trace-chat-1");

    const dir = await mkdtemp(join(tmpdir(), "lf-seed-"));
    try {
      const broken = join(dir, "broken.json");
      await writeFile(
        broken,
        JSON.stringify([{ id: "x", timestamp: "2026-10-01T00:00:00Z", observations: [{ id: "o" }] }]),
      );
      await expect(store.loadFromJson(broken)).rejects.toThrow(LangfuseEmulatorInputError);
      await writeFile(broken, "{not json");
      await expect(store.loadFromJson(broken)).rejects.toThrow(/not JSON/);
      await writeFile(broken, JSON.stringify([{ id: "y", timestamp: "yesterday" }]));
      await expect(store.loadFromJson(broken)).rejects.toThrow(/not a valid date/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("upserts by id: re-adding a trace or observation replaces it instead of duplicating", () => {
    const store = new LangfuseStore();
    const obs = { id: "o", type: "SPAN" as const, startTime: "2026-10-01T00:00:01Z" };
    store.addTrace({ id: "t", timestamp: "2026-10-01T00:00:00Z" }, [obs]);
    store.addTrace({ id: "t", timestamp: "2026-10-01T00:00:00Z", name: "renamed" }, [
      { ...obs, startTime: "2026-10-01T00:00:05Z" },
    ]);
    expect(store.traceCount).toBe(1);
    expect(store.observations.all().map((o) => [o.id, o.sortMs])).toEqual([
      ["o", Date.parse("2026-10-01T00:00:05Z")],
    ]);
    expect(store.getTrace("t")?.data.name).toBe("renamed");
    expect(() => store.addObservations("missing", [obs])).toThrow(LangfuseEmulatorInputError);
  });
});
