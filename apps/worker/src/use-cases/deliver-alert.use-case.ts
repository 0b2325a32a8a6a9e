import {
  type Alert,
  AlertDeliveryError,
  type AlertsSentRepository,
  alertKeys,
  DEFAULT_ALERTS_PER_KIND_PER_HOUR,
  isAlertKind,
  isOverBudget,
  type Notifier,
  type RateWindow,
  rateWindow,
  SUMMARY_KIND,
} from "@sparks/alerts";
import type { RepeatedLogGate } from "@sparks/observability";
import { alertsTotal } from "@sparks/observability";
import { jobId, PermanentJobError, type QueueService, RetryableJobError } from "@sparks/queues";
import type { JobsOptions } from "bullmq";
import type { Logger } from "pino";

export interface AlertDeliveryOptions {
  /** At most this many alerts of one kind per UTC hour (default 10); the rest fold into one summary. */
  perKindPerHour?: number;
  /**
   * How long a claimed delivery stays reserved (default 60 s, above the channels' 10 s
   * timeout): past it, a claim left by a crashed attempt is taken over and re-sent.
   */
  leaseMs?: number;
  /** BullMQ options of the summary job (tests shorten its backoff). */
  summaryJob?: JobsOptions;
}

export interface DeliverAlertDeps {
  notifier: Notifier;
  repository: AlertsSentRepository;
  queues: QueueService;
  logger: Logger;
  now: () => Date;
  options?: AlertDeliveryOptions;
  /** Folds repeated "no channel configured" warnings into one line per minute with a count. */
  unconfiguredGate?: RepeatedLogGate;
}

export type AlertOutcome =
  | { status: "delivered"; channels: string[] }
  /** Every channel had it already (a repeated dedupe key). */
  | { status: "duplicate" }
  /** Over the hour's budget: folded into the kind's summary. */
  | { status: "suppressed" }
  /** No channel configured: written to the log only. */
  | { status: "logged" }
  /** A summary job found nothing to summarise. */
  | { status: "empty_summary" };

const DEFAULT_LEASE_MS = 60_000;

/** The summary of a window: its text is built from `alerts_sent` when it is delivered. */
async function summaryText(deps: DeliverAlertDeps, alert: Alert): Promise<Alert | null> {
  const kind = String(alert.data.suppressedKind ?? "");
  const start = new Date(String(alert.data.windowStart ?? ""));
  if (!kind || Number.isNaN(start.getTime())) {
    throw new PermanentJobError("alerts_suppressed: data.suppressedKind and data.windowStart are required");
  }
  const window = rateWindow(start);
  const { count, titles } = await deps.repository.suppressed(kind, window);
  if (count === 0) return null;
  const hour = `${window.start.toISOString().slice(0, 16)}–${window.end.toISOString().slice(11, 16)} UTC`;
  const more = count > titles.length ? `\n…and ${count - titles.length} more` : "";
  return {
    ...alert,
    title: `${count} more ${kind} alert${count === 1 ? "" : "s"} were not sent individually (${hour})`,
    text: `Over ${deps.options?.perKindPerHour ?? DEFAULT_ALERTS_PER_KIND_PER_HOUR} ${kind} alerts in one hour; the rest, folded here:\n${titles.map((t) => `• ${t}`).join("\n")}${more}`,
    data: { ...alert.data, count },
  };
}

async function scheduleSummary(deps: DeliverAlertDeps, kind: string, window: RateWindow): Promise<void> {
  if (!isAlertKind(kind)) return;
  const delay = Math.max(0, window.end.getTime() - deps.now().getTime());
  // One summary per kind and window: BullMQ ignores a second job with the same id.
  await deps.queues.add(
    "alerts",
    {
      kind: SUMMARY_KIND,
      dedupeKey: alertKeys.summary(kind, window.start),
      customerId: null,
      title: `Suppressed ${kind} alerts`,
      text: "",
      data: { suppressedKind: kind, windowStart: window.start.toISOString() },
    },
    { ...deps.options?.summaryJob, jobId: jobId("alerts-summary", kind, window.start.toISOString()), delay },
  );
}

/**
 * Delivers one alert job:
 * 1. Rate limit: a new alert beyond the hour's budget for its kind is recorded as suppressed
 *    and a delayed summary job (one per kind and hour) folds it into one line.
 * 2. Dedupe: the record row (`dedupe_key` = the alert's key) is inserted once; a repeated key
 *    keeps the first decision.
 * 3. Per channel, claim `<key>#<channel>` (insert-on-conflict-do-nothing) before sending,
 *    mark it sent after. A failed send releases its claim and the job throws, so BullMQ
 *    retries with backoff and only the channels not yet sent are tried again.
 *
 * Crash window: a process that dies between a successful send and marking it sent leaves a
 * claim; the retry takes it over once the lease has passed and sends again. So an alert is
 * at-least-once per channel (a duplicate only on a crash in that instant), never lost, and
 * two concurrent attempts never both send (the second finds a fresh claim and waits).
 */
export async function deliverAlert(deps: DeliverAlertDeps, input: Alert): Promise<AlertOutcome> {
  const log = deps.logger.child({ alertKind: input.kind, dedupeKey: input.dedupeKey });
  const at = deps.now();

  let alert = input;
  if (input.kind === SUMMARY_KIND) {
    const summary = await summaryText(deps, input);
    if (!summary) return { status: "empty_summary" };
    alert = summary;
  }

  let disposition: "deliver" | "suppressed" = "deliver";
  if (alert.kind !== SUMMARY_KIND) {
    const delivered = await deps.repository.countDelivered(alert.kind, rateWindow(at));
    if (isOverBudget(delivered, deps.options?.perKindPerHour ?? DEFAULT_ALERTS_PER_KIND_PER_HOUR)) {
      disposition = "suppressed";
    }
  }
  const record = await deps.repository.record(alert, disposition, at);

  if (record.disposition === "suppressed") {
    // Also on a retry: the summary job id makes this idempotent.
    await scheduleSummary(deps, alert.kind, rateWindow(record.recordedAt));
    if (record.inserted) {
      log.info({ title: alert.title }, "alert suppressed by the hourly limit; it will be in the summary");
      alertsTotal.inc({ kind: alert.kind, outcome: "suppressed" });
    }
    return { status: "suppressed" };
  }

  if (!deps.notifier.configured) {
    if (record.inserted) {
      // Without a gate every alert is a warning; with one (the worker's), the first is logged in
      // full and the rest counted, so a demo's first seconds are not dozens of identical lines.
      const admitted = deps.unconfiguredGate ? deps.unconfiguredGate.admit("no-channel") : { repeated: 0 };
      if (admitted) {
        log.warn(
          {
            customerId: alert.customerId,
            title: alert.title,
            text: alert.text,
            data: alert.data,
            ...(admitted.repeated > 0 ? { repeated: admitted.repeated } : {}),
          },
          admitted.repeated > 0
            ? `alert (no channel configured: set SLACK_WEBHOOK_URL or SMTP_URL + ALERT_EMAIL_TO); ${admitted.repeated} more since the last such line`
            : "alert (no channel configured: set SLACK_WEBHOOK_URL or SMTP_URL + ALERT_EMAIL_TO)",
        );
      }
      alertsTotal.inc({ kind: alert.kind, outcome: "logged" });
      return { status: "logged" };
    }
    return { status: "duplicate" };
  }

  const sent: string[] = [];
  const failures: AlertDeliveryError[] = [];
  let busy = false;
  for (const channel of deps.notifier.channels) {
    const claim = await deps.repository.claim(
      alert,
      channel.name,
      at,
      deps.options?.leaseMs ?? DEFAULT_LEASE_MS,
    );
    if (claim.status === "sent") continue;
    if (claim.status === "busy") {
      busy = true;
      continue;
    }
    try {
      await channel.send(alert);
    } catch (e) {
      await deps.repository.release(alert, channel.name, claim.token);
      failures.push(
        e instanceof AlertDeliveryError
          ? e
          : new AlertDeliveryError(channel.name, e instanceof Error ? e.message : String(e), true, {
              cause: e,
            }),
      );
      continue;
    }
    await deps.repository.markSent(alert, channel.name, claim.token, deps.now());
    sent.push(channel.name);
  }

  if (sent.length > 0) {
    log.info({ channels: sent }, "alert delivered");
    alertsTotal.inc({ kind: alert.kind, outcome: "delivered" });
  }
  if (failures.length > 0) {
    alertsTotal.inc({ kind: alert.kind, outcome: "failed" });
    const message = failures.map((f) => f.message).join("; ");
    // One channel that can pass later is worth the retry; the other channels are skipped then.
    if (failures.some((f) => f.retryable)) throw new RetryableJobError(`alert not delivered: ${message}`);
    throw new PermanentJobError(`alert not delivered (fix the channel, then retry the job): ${message}`);
  }
  if (busy) throw new RetryableJobError("alert delivery is claimed by another attempt; trying again later");
  return sent.length > 0 ? { status: "delivered", channels: sent } : { status: "duplicate" };
}
