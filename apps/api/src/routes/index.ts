import type { FastifyInstance } from "fastify";
import type { RoutePluginOptions } from "../api-deps";
import { auth0SignupRoutes } from "./auth0-signup.routes";
import { bullBoardRoutes } from "./bull-board.routes";
import { customerRateRoutes } from "./customer-rate.routes";
import { docsRoutes } from "./docs.routes";
import { healthRoutes } from "./health.routes";
import { homePageRoutes } from "./home-page.routes";
import { meRoutes } from "./me.routes";
import { metricsRoutes } from "./metrics.routes";
import { quotaRoutes } from "./quota.routes";
import { stripeWebhookRoutes } from "./stripe-webhook.routes";
import { subscriptionsRoutes } from "./subscriptions.routes";
import { usageErrorsRoutes } from "./usage-errors.routes";
import { usagePageRoutes } from "./usage-page.routes";
import { usageReconciliationRoutes } from "./usage-reconciliation.routes";
import { usageReportRoutes } from "./usage-report.routes";
import { usageSyncRoutes } from "./usage-sync.routes";

/**
 * Every route plugin, one file per feature. A new feature adds its file and one line here;
 * each plugin declares who may call its routes with `config: { auth }`.
 */
export async function registerRoutes(app: FastifyInstance, options: RoutePluginOptions): Promise<void> {
  await app.register(healthRoutes, options);
  await app.register(docsRoutes, options);
  await app.register(metricsRoutes, options);
  await app.register(bullBoardRoutes, options);
  await app.register(meRoutes, options);
  await app.register(auth0SignupRoutes, options);
  await app.register(subscriptionsRoutes, options);
  await app.register(customerRateRoutes, options);
  await app.register(quotaRoutes, options);
  await app.register(stripeWebhookRoutes, options);
  await app.register(usageReportRoutes, options);
  await app.register(usageSyncRoutes, options);
  await app.register(usageErrorsRoutes, options);
  await app.register(usagePageRoutes, options);
  await app.register(usageReconciliationRoutes, options);
  await app.register(homePageRoutes, options);
}
