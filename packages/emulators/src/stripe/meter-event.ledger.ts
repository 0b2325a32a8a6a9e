import type { MeterObject, StoredMeterEvent } from "./stripe.types";
import { StripeApiError } from "./stripe-api.error";

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface MeterTotal {
  customer: string;
  eventName: string;
  value: number;
  count: number;
}

export interface SummaryWindow {
  start: number;
  end: number;
  value: number;
}

/**
 * Accepted meter events, indexed so the hot path (duplicate check, insert) is O(1) and
 * summaries only scan one customer's events on one meter.
 */
export class MeterEventLedger {
  readonly events: StoredMeterEvent[] = [];
  private readonly byIdentifier = new Map<string, StoredMeterEvent>();
  private readonly byMeterCustomer = new Map<string, StoredMeterEvent[]>();

  /** The live event with this identifier if it was received within the dedupe window. */
  recent(identifier: string, nowMs: number, windowMs = DAY_MS): StoredMeterEvent | undefined {
    const found = this.byIdentifier.get(identifier);
    return found !== undefined && nowMs - found.receivedAt < windowMs ? found : undefined;
  }

  add(event: StoredMeterEvent): void {
    this.events.push(event);
    this.byIdentifier.set(event.identifier, event);
    const key = `${event.meterId}\u0000${event.customer}`;
    const list = this.byMeterCustomer.get(key);
    if (list === undefined) this.byMeterCustomer.set(key, [event]);
    else list.push(event);
  }

  /** Cancels an event received within the last 24 hours (Stripe's adjustment window). */
  cancel(identifier: string, eventName: string, nowMs: number): StoredMeterEvent {
    const found = this.byIdentifier.get(identifier);
    if (found === undefined || found.eventName !== eventName) {
      throw StripeApiError.invalid(
        `No meter event with identifier ${identifier} was found for event_name ${eventName}.`,
        "cancel[identifier]",
        "resource_missing",
      );
    }
    if (nowMs - found.receivedAt >= DAY_MS) {
      throw StripeApiError.invalid(
        `The meter event with identifier ${identifier} was received more than 24 hours ago and can no longer be cancelled.`,
        "cancel[identifier]",
      );
    }
    found.cancelled = true;
    return found;
  }

  /** Aggregated values over [start, end) in Unix seconds, one window per `stepSec` (or one). */
  summarize(
    meter: MeterObject,
    customer: string,
    start: number,
    end: number,
    stepSec: number | null,
  ): SummaryWindow[] {
    const events = this.byMeterCustomer.get(`${meter.id}\u0000${customer}`) ?? [];
    const step = stepSec ?? end - start;
    const windows: SummaryWindow[] = [];
    for (let ws = start; ws < end; ws += step) {
      const we = Math.min(ws + step, end);
      let value = 0;
      let lastTs = Number.NEGATIVE_INFINITY;
      for (const e of events) {
        if (e.cancelled || e.timestamp < ws || e.timestamp >= we) continue;
        if (meter.default_aggregation.formula === "sum") value += e.value;
        else if (meter.default_aggregation.formula === "count") value += 1;
        else if (e.timestamp >= lastTs) {
          lastTs = e.timestamp;
          value = e.value;
        }
      }
      windows.push({ start: ws, end: we, value });
    }
    return windows;
  }

  /** Totals per (customer, event_name) of the events that still count. */
  totals(includeCancelled = false): MeterTotal[] {
    const map = new Map<string, MeterTotal>();
    for (const e of this.events) {
      if (e.cancelled && !includeCancelled) continue;
      const key = `${e.customer}\u0000${e.eventName}`;
      const t = map.get(key);
      if (t === undefined)
        map.set(key, { customer: e.customer, eventName: e.eventName, value: e.value, count: 1 });
      else {
        t.value += e.value;
        t.count += 1;
      }
    }
    return [...map.values()];
  }
}
