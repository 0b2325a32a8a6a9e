import type { AppConfig } from "@sparks/config";
import { type Database, GroupCommitWriter, type StripeAuditEntry, StripeAuditRepository } from "@sparks/db";
import { createLangfuseReader, type LangfuseReader } from "@sparks/langfuse";
import { langfuseRequests, stripeRequests } from "@sparks/observability";
import { RedisRateLimiter } from "@sparks/queues";
import {
  createStripeClient,
  MeterEventSender,
  MeterEventStreamSender,
  type StripeCallAudit,
} from "@sparks/stripe";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { StripePorts } from "./worker-deps";

function requestOutcome(outcome: string, statusCode: number | null): string {
  if (outcome === "sent" || outcome === "duplicate") return "ok";
  if (statusCode === 429) return "rate_limited";
  if (statusCode === null) return "timeout";
  return "error";
}

/**
 * The share of STRIPE_MAX_RPS the shared limiter hands out. The limiter spaces calls when they
 * leave; Stripe counts them when they arrive, after network and event-loop jitter. Spaced at
 * exactly the limit, any call delayed more than the one 25 slots later puts 26 in Stripe's
 * second and earns a 429 (seen in the bench: 10 × 429 at 25/s); 5% headroom absorbs ~50 ms of
 * jitter per second and costs 5% of the budget.
 */
export const STRIPE_BUDGET_SHARE = 0.95;

export interface PipelineAdapterOptions {
  config: AppConfig;
  database: Database;
  connection: Redis;
  /** BullMQ prefix; the rate budget key lives under it so tests never share a bucket. */
  prefix: string;
  logger: Logger;
  /** Stripe per-call timeout (default: the client's 20 s). */
  stripeTimeoutMs?: number;
}

/**
 * Builds the outside adapters from config: the Langfuse reader and the Stripe meter-event
 * sender, the latter behind the global STRIPE_MAX_RPS budget (a Redis token bucket shared by
 * every worker process) and writing one audit row per call (group-committed). Absent credentials: absent adapter.
 */
export function createPipelineAdapters(opts: PipelineAdapterOptions): {
  langfuse?: LangfuseReader;
  stripe?: StripePorts;
} {
  const { config } = opts;
  const out: { langfuse?: LangfuseReader; stripe?: StripePorts } = {};
  if (config.langfuse.publicKey && config.langfuse.secretKey) {
    out.langfuse = createLangfuseReader({
      baseUrl: config.langfuse.baseUrl,
      publicKey: config.langfuse.publicKey,
      secretKey: config.langfuse.secretKey,
      api: config.langfuse.api,
      onRetry: (info) => {
        langfuseRequests.inc({ operation: "read", outcome: "retried" });
        opts.logger.warn(info, "langfuse request retried");
      },
    });
  }
  if (config.stripe.secretKey) {
    const limiter = new RedisRateLimiter(opts.connection, {
      key: `${opts.prefix}:stripe-rate-budget`,
      ratePerSecond: config.stripe.maxRps * STRIPE_BUDGET_SHARE,
    });
    // One audit row per call, written before the call's result is used, but group-committed:
    // the rows of every push running in this process share one insert and one commit.
    const auditRepository = new StripeAuditRepository(opts.database.db);
    const audit = new GroupCommitWriter<StripeAuditEntry>((entries) => auditRepository.recordMany(entries));
    const stripe = createStripeClient({
      secretKey: config.stripe.secretKey,
      apiBase: config.stripe.apiBase,
      ...(opts.stripeTimeoutMs === undefined ? {} : { timeoutMs: opts.stripeTimeoutMs }),
    });
    const onCall = async (entry: StripeCallAudit) => {
      stripeRequests.inc({
        operation: entry.operation,
        outcome: requestOutcome(entry.outcome, entry.statusCode),
      });
      await audit.add({
        operation: entry.operation,
        identifier: entry.identifier,
        request: entry.request,
        response: { outcome: entry.outcome, request_id: entry.requestId },
        statusCode: entry.statusCode,
        durationMs: entry.durationMs,
        error: entry.error,
      });
    };
    const acquire = () => limiter.acquire();
    out.stripe = {
      // v1 stays the sender for single events (reconciliation repairs) in either mode.
      sender: new MeterEventSender(stripe, { acquire, onCall }),
      ...(config.stripe.meterApi === "v2"
        ? {
            stream: new MeterEventStreamSender(stripe, {
              acquire,
              onCall,
              streamClient: (token) =>
                createStripeClient({
                  secretKey: token,
                  apiBase: config.stripe.apiBase,
                  ...(opts.stripeTimeoutMs === undefined ? {} : { timeoutMs: opts.stripeTimeoutMs }),
                }),
              ...(opts.stripeTimeoutMs === undefined ? {} : { timeoutMs: opts.stripeTimeoutMs }),
            }),
          }
        : {}),
    };
  }
  return out;
}
