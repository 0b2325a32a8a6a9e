import type { MeterEventLedger, MeterTotal } from "./meter-event.ledger";
import type { StoredMeterEvent } from "./stripe.types";
import type { StripeErrorBody } from "./stripe-api.error";
import type { FormObject } from "./stripe-form.parser";

export type FaultKind = "server_error" | "rate_limit_should_retry" | "rate_limit" | "hang";

/** One request as the emulator saw it, accepted or refused. */
export interface RecordedRequest {
  method: string;
  path: string;
  params: FormObject;
  status: number;
  /** Emulator clock, in milliseconds, when the request arrived. */
  time: number;
  idempotencyKey: string | null;
  /** The stored answer of an earlier request with this `Idempotency-Key` was replayed. */
  replayed: boolean;
  fault: FaultKind | null;
  error: StripeErrorBody | null;
}

/**
 * A log of every request, for assertions, plus typed views of the accepted meter events
 * (read from the ledger, so an idempotent replay or a fault never shows up as usage).
 */
export class StripeRecording {
  readonly requests: RecordedRequest[] = [];

  constructor(private readonly ledger: MeterEventLedger) {}

  add(entry: RecordedRequest): void {
    this.requests.push(entry);
  }

  /** Requests matching a method and/or a path (exact string or pattern). */
  filter(match: { method?: string; path?: string | RegExp; status?: number }): RecordedRequest[] {
    return this.requests.filter(
      (r) =>
        (match.method === undefined || r.method === match.method) &&
        (match.status === undefined || r.status === match.status) &&
        (match.path === undefined ||
          (typeof match.path === "string" ? r.path === match.path : match.path.test(r.path))),
    );
  }

  /** Refused requests (status ≥ 400), faults included. */
  refused(): RecordedRequest[] {
    return this.requests.filter((r) => r.status >= 400);
  }

  /** Accepted meter events (v1 and v2 stream), cancelled ones flagged, in arrival order. */
  meterEvents(): StoredMeterEvent[] {
    return this.ledger.events;
  }

  /** Totals per (customer, event_name); cancelled events excluded unless asked for. */
  meterTotals(opts: { includeCancelled?: boolean } = {}): MeterTotal[] {
    return this.ledger.totals(opts.includeCancelled ?? false);
  }

  /** The billed total of one customer on one event name (0 when nothing was accepted). */
  meterTotal(customer: string, eventName: string): number {
    return this.meterTotals().find((t) => t.customer === customer && t.eventName === eventName)?.value ?? 0;
  }

  clear(): void {
    this.requests.length = 0;
  }
}
