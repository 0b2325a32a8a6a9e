import { failDeadSyncRuns } from "@sparks/ledger";
import { checkRedisEpoch, jobId } from "@sparks/queues";
import { SCHEDULER_IDS, upsertSchedulers } from "./schedulers";
import type { WorkerDeps } from "./worker-deps";

/** How often a running worker re-checks its schedulers and the Redis epoch by default. */
export const SCHEDULER_CHECK_INTERVAL_MS = 30_000;

export interface SchedulerKeeperOptions {
  intervalMs?: number;
  /** Called once per detected wipe (after the schedulers are back), e.g. to rebuild counters. */
  onRedisWiped?: (epoch: string) => void | Promise<void>;
}

export interface SchedulerKeeper {
  /** One check now (also what the timer and every reconnect run). Never throws. */
  check(): Promise<{ wiped: boolean; recreated: number }>;
  stop(): void;
}

/**
 * Job schedulers live in Redis only: a Redis restarted empty under a running worker would leave
 * no scheduled sync, month close, reconcile or retention until the next worker restart
 * (issue 19). This keeper re-asserts them on every reconnect and every `intervalMs`: a wiped
 * Redis (its epoch marker changed or vanished) gets every scheduler upserted again and an alert;
 * otherwise only a missing scheduler is re-created. Upserting is idempotent, so any number of
 * worker processes may run it.
 */
export function startSchedulerKeeper(
  deps: WorkerDeps,
  options: SchedulerKeeperOptions = {},
): SchedulerKeeper {
  const prefix = deps.queues.prefix;
  let known: string | null = null;
  let running: Promise<{ wiped: boolean; recreated: number }> | null = null;
  let stopped = false;

  const runCheck = async (): Promise<{ wiped: boolean; recreated: number }> => {
    const epoch = await checkRedisEpoch(deps.connection, prefix, known);
    // A key this process had not seen before and had to create: Redis started empty.
    const wiped = epoch.changed || (known !== null && epoch.created);
    known = epoch.epoch;
    if (wiped) {
      deps.logger.warn(
        { epoch: epoch.epoch },
        "Redis lost its data (epoch marker changed); re-creating schedulers",
      );
      await upsertSchedulers(deps);
      await deps.queues
        .add(
          "alerts",
          {
            kind: "redis_data_lost",
            dedupeKey: epoch.epoch,
            customerId: null,
            title: "Redis lost its data",
            text: "Redis came back empty under a running worker. Job schedulers were re-created; queued jobs are rebuilt from the Postgres ledger by the next sync.",
            data: { epoch: epoch.epoch },
          },
          { jobId: jobId("alert", "redis_data_lost", epoch.epoch) },
        )
        .catch((err: unknown) => deps.logger.warn({ err }, "could not enqueue the redis_data_lost alert"));
      await options.onRedisWiped?.(epoch.epoch);
      return { wiped: true, recreated: SCHEDULER_IDS.length };
    }
    let recreated = 0;
    for (const [queueName, schedulerId] of SCHEDULER_IDS) {
      if (!(await deps.queues.queue(queueName).getJobScheduler(schedulerId))) recreated += 1;
    }
    if (recreated > 0) {
      deps.logger.warn({ recreated }, "job schedulers missing; re-creating them");
      await upsertSchedulers(deps);
    }
    return { wiped: false, recreated };
  };

  // Sync runs left queued/running without a job (requested while Redis was down, or lost in a
  // wipe) are failed periodically too, not only when the next sync request looks.
  const sweepDeadRuns = async () => {
    const failed = await failDeadSyncRuns(deps);
    if (failed.length > 0) deps.logger.warn({ syncRunIds: failed }, "failed sync runs whose jobs are gone");
  };

  const check = async () => {
    if (stopped) return { wiped: false, recreated: 0 };
    running ??= runCheck()
      .then(async (result) => {
        await sweepDeadRuns();
        return result;
      })
      .catch((err: unknown) => {
        // Redis away: the next reconnect or tick tries again.
        deps.logger.warn({ err }, "scheduler check failed; will retry");
        return { wiped: false, recreated: 0 };
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  const onReady = () => void check();
  deps.connection.on("ready", onReady);
  const timer = setInterval(() => void check(), options.intervalMs ?? SCHEDULER_CHECK_INTERVAL_MS);
  timer.unref();
  void check();

  return {
    check,
    stop() {
      stopped = true;
      clearInterval(timer);
      deps.connection.off("ready", onReady);
    },
  };
}
