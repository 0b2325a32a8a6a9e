import { createTestDatabase, type TestDatabase } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Alert, AlertsSentRepository } from "../src";

const alert: Alert = {
  kind: "quota_100",
  dedupeKey: "quota:100:cus_unknown:2026-11",
  customerId: "cus_unknown",
  title: "t",
  text: "",
  data: {},
};
const t0 = new Date("2026-11-03T10:00:00.000Z");
const later = (ms: number) => new Date(t0.getTime() + ms);

describe("AlertsSentRepository", () => {
  let db: TestDatabase;
  let repo: AlertsSentRepository;
  beforeAll(async () => {
    db = await createTestDatabase();
    repo = new AlertsSentRepository(db.database.db);
  });
  afterAll(async () => {
    await db.drop();
  });

  it("records an alert once, even for a customer the table does not have", async () => {
    expect(await repo.record(alert, "deliver", t0)).toMatchObject({ inserted: true, disposition: "deliver" });
    const again = await repo.record(alert, "suppressed", later(1_000));
    expect(again).toMatchObject({ inserted: false, disposition: "deliver" });
    expect(again.recordedAt.toISOString()).toBe(t0.toISOString());
  });

  it("a fresh claim blocks a second attempt; a stale one (crashed holder) is taken over", async () => {
    const first = await repo.claim(alert, "slack", t0, 60_000);
    expect(first.status).toBe("claimed");
    expect((await repo.claim(alert, "slack", later(30_000), 60_000)).status).toBe("busy");
    const takeover = await repo.claim(alert, "slack", later(61_000), 60_000);
    expect(takeover.status).toBe("claimed");
    if (takeover.status !== "claimed") return;
    await repo.markSent(alert, "slack", takeover.token, later(62_000));
    expect((await repo.claim(alert, "slack", later(200_000), 60_000)).status).toBe("sent");
  });

  it("a released claim can be claimed again at once", async () => {
    const claim = await repo.claim(alert, "email", t0, 60_000);
    if (claim.status !== "claimed") throw new Error("expected a claim");
    await repo.release(alert, "email", claim.token);
    expect((await repo.claim(alert, "email", later(1), 60_000)).status).toBe("claimed");
  });

  it("counts delivered and suppressed alerts per kind inside the hour window only", async () => {
    const window = { start: t0, end: later(3_600_000) };
    const base = { ...alert, kind: "usage_spike" as const };
    await repo.record({ ...base, dedupeKey: "s1", title: "one" }, "deliver", later(1));
    await repo.record({ ...base, dedupeKey: "s2", title: "two" }, "suppressed", later(2));
    await repo.record({ ...base, dedupeKey: "s3", title: "three" }, "suppressed", later(3_600_000));
    expect(await repo.countDelivered("usage_spike", window)).toBe(1);
    expect(await repo.suppressed("usage_spike", window)).toEqual({ count: 1, titles: ["two"] });
  });
});
