import { Readable } from "node:stream";
import { monthOf, parseMonth } from "@sparks/core";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { resolveCustomerScope } from "../auth/customer-scope";
import { BadRequestError } from "../errors/http-errors";
import { quotaServices } from "../use-cases/quota-services";
import { csvLines } from "../use-cases/usage-report.csv";
import { UsageReportUseCase } from "../use-cases/usage-report.use-case";

const query = z.object({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be YYYY-MM (a UTC calendar month)"),
  customer_id: z.string().min(1).optional(),
  detail: z.enum(["items"]).optional(),
  format: z.enum(["json", "csv"]).default("json"),
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * SPEC §4 `GET /usage/report`: a customer reads its own month, an admin any customer's.
 * `?detail=items` pages through the ledger items behind the numbers (with their Langfuse
 * trace ids and meter-event identifiers); `?format=csv` streams every item as CSV.
 */
export const usageReportRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  const reports = new UsageReportUseCase(deps.database, deps.config);

  app.get(
    "/usage/report",
    {
      config: { auth: "customer" },
      schema: {
        tags: ["usage"],
        summary: "Monthly usage report: Sparks, USD, discount, tier segments, quota, cost centers",
        querystring: query,
      },
    },
    async (request, reply) => {
      const q = request.query;
      const month = parseMonth(q.month);
      if (!month.ok) throw new BadRequestError(`month: ${month.err.message}`);
      const scope = await resolveCustomerScope(request, q.customer_id);

      if (q.format === "csv") {
        const filename = `sparks-usage-${scope.customerId}-${month.val}.csv`.replace(/[^A-Za-z0-9_.-]/g, "_");
        reply
          .header("content-type", "text/csv; charset=utf-8")
          .header("content-disposition", `attachment; filename="${filename}"`);
        return reply.send(Readable.from(csvLines(reports.allItems(scope.customerId, month.val))));
      }
      if (q.detail === "items") {
        const page = await reports.items(scope.customerId, month.val, q.page, q.limit);
        return {
          customer_id: scope.customerId,
          month: month.val,
          page: q.page,
          limit: q.limit,
          total: page.total,
          pages: Math.ceil(page.total / q.limit),
          items: page.items,
        };
      }
      const report = await reports.build(scope.customerId, month.val);
      return { ...report, provisional: await provisionalBlock(scope.customerId, month.val) };
    },
  );

  /**
   * Usage not billed yet, apart from the billed figures above: what the quota refresh read from
   * Langfuse's open window (never billed; replaced by billed usage as windows close) and the
   * Sparks held by open reservations. Only the current month has any.
   */
  async function provisionalBlock(customerId: string, month: string) {
    const { store } = quotaServices(deps);
    const current = monthOf(deps.now());
    const note =
      "read from Langfuse's open window every QUOTA_REFRESH_SECONDS; not billed, replaced as windows close";
    if (month !== current)
      return { month_is_open: false, sparks: 0, held: 0, counters: "live" as const, note };
    try {
      const snap = await store.snapshot(customerId, month);
      return {
        month_is_open: true,
        sparks: snap.provisional,
        held: snap.held,
        counters: snap.trusted ? ("live" as const) : ("rebuilding" as const),
        note,
      };
    } catch {
      return { month_is_open: true, sparks: 0, held: 0, counters: "unavailable" as const, note };
    }
  }
};
