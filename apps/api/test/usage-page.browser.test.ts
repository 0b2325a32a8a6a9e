import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { UsageCategory } from "@sparks/core";
import { CustomerRepository, type CustomerRow, executeRows } from "@sparks/db";
import { QuotaStore } from "@sparks/queues";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "./api-harness";
import { launchChromium, skipBrowserTests, type TestBrowser } from "./browser/chromium";
import { type SeedItem, seedUsageItems } from "./browser/usage-seed";

const skip = skipBrowserTests("usage page browser test");

const SCREENSHOT = fileURLToPath(new URL("./output/usage-page.png", import.meta.url));
const MONTH = "2026-03";

let h: ApiHarness;
let browser: TestBrowser;
let origin: string;
let customer: CustomerRow;

interface ReportJson {
  total_sparks: string;
  categories: Array<{ category: string; sparks: string; sent_sparks: string }>;
  discount: { percent: string };
  usd: { net: string; display: { net: string } };
  quota: { used: number };
  tier_segments: Array<{ tier: string; sparks: string }>;
  daily: Array<{ date: string; sparks: string; categories: Record<string, string> }>;
}
interface ItemsJson {
  total: number;
  pages: number;
  items: Array<{ item_id: number; sparks: string; trace_id: string }>;
}

/** March: 26 counted items over 13 days, one quarantined; 12,345.5 Sparks, so 5% off. */
function marchItems(): SeedItem[] {
  const items: SeedItem[] = [];
  const categories: UsageCategory[] = ["ai_tokens", "compute", "storage"];
  for (let i = 0; i < 26; i += 1) {
    const category = categories[i % 3] ?? "ai_tokens";
    const day = String(1 + ((i * 7) % 26)).padStart(2, "0");
    items.push({
      traceId: `trace-march-${String(i).padStart(2, "0")}`,
      category,
      at: `${MONTH}-${day}T${String(8 + (i % 10)).padStart(2, "0")}:15:00Z`,
      quantity: category === "ai_tokens" ? "4000" : category === "compute" ? "480000" : "14.6",
      unit: category === "ai_tokens" ? "tokens" : category === "compute" ? "ms" : "GB-hours",
      exact: category === "ai_tokens" ? "400" : category === "compute" ? "400" : "10",
      costCenter: i % 2 === 0 ? "support-bot" : "sales-bot",
    });
  }
  // Big enough to cross the 10,000-Sparks discount step: 9*400+9*400+8*10 = 7,280, plus these.
  items.push(
    {
      traceId: "trace-march-big",
      category: "ai_tokens",
      at: `${MONTH}-20T10:00:00Z`,
      quantity: "50655",
      unit: "tokens",
      exact: "5065.5",
      costCenter: "support-bot",
    },
    {
      traceId: "trace-march-bad",
      category: "compute",
      at: `${MONTH}-21T10:00:00Z`,
      quantity: "-5",
      unit: "ms",
      exact: "0",
      status: "quarantined",
      reason: "compute_ms is negative (-5)",
    },
  );
  return items;
}

async function json<T>(url: string, token: string): Promise<T> {
  const res = await h.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode).toBe(200);
  return res.json() as T;
}

async function openPage(path: string, token?: string): Promise<{ page: Page; foreign: string[] }> {
  const page = await browser.context.newPage();
  const foreign: string[] = [];
  // Nothing may come from anywhere but the app (no CDN, no fonts, no analytics).
  page.on("request", (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  page.on("pageerror", (e) => foreign.push(`page error: ${e.message}`));
  await page.goto(`${origin}${path}${token ? `#access_token=${token}` : ""}`);
  return { page, foreign };
}

// What a person sees (rendered text), not the DOM's raw textContent.
// biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point of the check.
const text = (page: Page, selector: string) => page.locator(selector).innerText();
const value = (page: Page, selector: string) => page.locator(selector).getAttribute("data-value");

describe.skipIf(skip)("GET /usage in a real browser (Debian chromium)", () => {
  beforeAll(async () => {
    h = await createApiHarness();
    customer = await new CustomerRepository(h.db.database.db).insert({
      auth0UserId: "auth0|browser-a",
      stripeCustomerId: "cus_browser_a",
      tier: "standard",
    });
    // Free until the 10th, standard after: two tier segments.
    await executeRows(
      h.db.database.db,
      `insert into tier_history (customer_id, tier, effective_from, effective_to, source) values
        ('${customer.id}', 'free', '2026-02-01T00:00:00Z', '2026-03-10T00:00:00Z', 'signup'),
        ('${customer.id}', 'standard', '2026-03-10T00:00:00Z', null, 'api')`,
    );
    await seedUsageItems(h.db.database.db, customer, [
      ...marchItems(),
      {
        traceId: "trace-feb",
        category: "compute",
        at: "2026-02-14T10:00:00Z",
        quantity: "600000",
        unit: "ms",
        exact: "500",
      },
    ]);
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    origin = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it("renders the report's totals, categories, discount, quota, daily chart, segments and items", async () => {
    const token = await h.auth0.mintToken({ sub: "auth0|browser-a" });
    const report = await json<ReportJson>(`/usage/report?month=${MONTH}`, token);
    const items = await json<ItemsJson>(`/usage/report?month=${MONTH}&detail=items&page=1&limit=25`, token);
    expect(report.total_sparks).toBe("12345.5");

    const { page, foreign } = await openPage(`/usage?month=${MONTH}`, token);
    await page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });

    // The token left the address bar; the month stayed.
    expect(page.url()).not.toContain("access_token");
    expect(page.url()).toContain(`month=${MONTH}`);

    expect(await value(page, "#total-sparks")).toBe(report.total_sparks);
    expect(await text(page, "#total-sparks")).toBe("12,345.5");
    for (const c of report.categories) {
      expect(await value(page, `#categories tr[data-category=${c.category}] td.sparks`)).toBe(c.sparks);
    }
    expect(await text(page, "#categories tr[data-category=ai_tokens] td.sparks")).toBe("8,665.5");
    expect(report.discount.percent).toBe("5");
    expect(await text(page, "#discount-percent")).toBe("5%");
    expect(await text(page, "#discount")).toContain("5% off the month (over 10,000 Sparks)");
    expect(await value(page, "#usd-net")).toBe(report.usd.net);
    expect(await text(page, "#usd-net")).toBe(`$${report.usd.display.net}`);
    expect(await text(page, "#quota-text")).toBe(
      `${report.quota.used.toLocaleString("en-US")} Sparks used · unlimited`,
    );

    // Tier segments.
    const segments = await page.locator("#segments tbody tr").evaluateAll((rows) =>
      rows.map((r) => ({
        tier: r.getAttribute("data-tier"),
        sparks: r.querySelector("td.num")?.getAttribute("data-value"),
      })),
    );
    expect(segments).toEqual(report.tier_segments.map((s) => ({ tier: s.tier, sparks: s.sparks })));
    expect(segments).toHaveLength(2);

    // Daily table and chart: one bar segment per (day, category) with usage.
    const days = await page
      .locator("#daily-table tbody tr")
      .evaluateAll((rows) =>
        rows.map((r) => [r.getAttribute("data-date"), r.querySelector("td.num")?.getAttribute("data-value")]),
      );
    expect(days).toEqual(report.daily.map((d) => [d.date, d.sparks]));
    const bars = await page
      .locator("#chart rect.bar")
      .evaluateAll((rects) =>
        rects.map(
          (r) =>
            `${r.getAttribute("data-date")}/${r.getAttribute("data-category")}=${r.getAttribute("data-value")}`,
        ),
      );
    expect(bars.sort()).toEqual(
      report.daily.flatMap((d) => Object.entries(d.categories).map(([c, v]) => `${d.date}/${c}=${v}`)).sort(),
    );

    // Items: the first page, in the API's order, with the quarantined item counted in the total.
    expect(items.total).toBe(28);
    const rows = await page
      .locator("#items tbody tr")
      .evaluateAll((trs) =>
        trs.map((r) => [
          Number(r.getAttribute("data-item-id")),
          r.querySelector("td.sparks")?.getAttribute("data-value"),
        ]),
      );
    expect(rows).toEqual(items.items.map((i) => [i.item_id, i.sparks]));
    expect(await text(page, "#page-info")).toBe("Items 1–25 of 28 · page 1 of 2");

    await mkdir(fileURLToPath(new URL("./output/", import.meta.url)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`usage page screenshot: ${SCREENSHOT}`);

    // Page 2 of the items, then the previous month through the picker.
    await page.click("#next-page");
    // Locator waits: the page's CSP (rightly) forbids the string eval waitForFunction would use.
    await page.locator("#page-info", { hasText: "page 2 of 2" }).waitFor();
    const page2 = await json<ItemsJson>(`/usage/report?month=${MONTH}&detail=items&page=2&limit=25`, token);
    const traces = await page.locator("#items tbody td.trace").allInnerTexts();
    expect(traces).toEqual(page2.items.map((i) => i.trace_id));
    expect(await text(page, "#items tbody tr:last-child")).toContain("compute_ms is negative (-5)");

    await page.click("#prev-month");
    await page.locator('#total-sparks[data-value="500"]').waitFor();
    expect(page.url()).toContain("month=2026-02");
    expect(await page.inputValue("#month")).toBe("2026-02");
    expect(await text(page, "#discount")).toBe("No volume discount this month");

    expect(foreign).toEqual([]);
    await page.close();
  });

  it("shows provisional usage of the open month apart from billed usage", async () => {
    const token = await h.auth0.mintToken({ sub: "auth0|browser-a" });
    const open = new Date().toISOString().slice(0, 7);
    await new QuotaStore({ redis: h.redis, prefix: h.prefix }).replaceProvisional(
      open,
      new Map([[customer.id, 1234]]),
    );
    const { page, foreign } = await openPage(`/usage?month=${open}`, token);
    await page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
    expect(await value(page, "#provisional-text")).toBe("1234");
    expect(await text(page, "#provisional-text")).toBe(
      "Provisional, not billed yet: 1,234 Sparks in the last minutes · 0 Sparks held by open reservations",
    );
    // A past month has no open window: nothing provisional is shown.
    const past = await openPage(`/usage?month=${MONTH}`, token);
    await past.page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
    expect(await past.page.locator("#provisional-text").isHidden()).toBe(true);
    expect([...foreign, ...past.foreign]).toEqual([]);
    await page.close();
    await past.page.close();
  });

  it("an admin chooses a customer and sees the same totals", async () => {
    const token = await h.auth0.mintToken({ sub: "auth0|ops", permissions: ["billing:admin"] });
    const { page, foreign } = await openPage(`/usage?month=${MONTH}`, token);
    await page.waitForSelector("#customer", { state: "visible" });
    expect(await text(page, "#status")).toBe("Choose a customer to see its usage.");
    await page.fill("#customer", "auth0|browser-a");
    await page.click("button[type=submit]");
    await page.waitForSelector("body[data-ready=true]");
    expect(await value(page, "#total-sparks")).toBe("12345.5");
    expect(await text(page, "#report-title")).toContain(customer.id);
    expect(page.url()).toContain("customer_id=auth0%7Cbrowser-a");
    expect(foreign).toEqual([]);
    await page.close();
  });

  it("without a valid token it asks to sign in and shows no data", async () => {
    const { page } = await openPage("/usage", "not-a-jwt");
    await page.waitForSelector("#signed-out", { state: "visible" });
    expect(await text(page, "#signed-out-reason")).toContain("not accepted");
    expect(await page.locator("#report").isVisible()).toBe(false);
    const stored = await page.evaluate(() =>
      (
        globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }
      ).sessionStorage.getItem("sparks.access_token"),
    );
    expect(stored).toBeNull();
    await page.close();
  });
});
