import type Stripe from "stripe";
import { stripeCall } from "./stripe-call";

/**
 * What reconciliation asks Stripe about meters: the meter id of an event name, minute-aligned
 * event summaries of one customer, and cancelling a meter event (an adjustment, within 24 h).
 * Failures are StripeCallErrors that say whether to retry.
 */
export class StripeMeterSummaryService {
  private ids: Map<string, string> | null = null;

  constructor(private readonly stripe: Stripe) {}

  /** The active meter whose `event_name` this is (listed once per service). */
  async meterId(eventName: string): Promise<string | undefined> {
    if (!this.ids) {
      this.ids = await stripeCall("billing.meters.list", async () => {
        const ids = new Map<string, string>();
        for await (const m of this.stripe.billing.meters.list({ status: "active", limit: 100 })) {
          ids.set(m.event_name, m.id);
        }
        return ids;
      });
    }
    return this.ids.get(eventName);
  }

  /** Whole Sparks per window start (Unix seconds) in [start, end); one window unless `hourly`. */
  async summaries(
    meterId: string,
    customer: string,
    start: Date,
    end: Date,
    hourly: boolean,
  ): Promise<Map<number, number>> {
    const params: Stripe.Billing.MeterListEventSummariesParams = {
      customer,
      start_time: Math.floor(start.getTime() / 60_000) * 60,
      end_time: Math.ceil(end.getTime() / 60_000) * 60,
      limit: 100,
      ...(hourly ? { value_grouping_window: "hour" as const } : {}),
    };
    return stripeCall("billing.meters.listEventSummaries", async () => {
      const out = new Map<number, number>();
      for await (const s of this.stripe.billing.meters.listEventSummaries(meterId, params)) {
        out.set(s.start_time, (out.get(s.start_time) ?? 0) + Math.round(s.aggregated_value));
      }
      return out;
    });
  }

  /** Total whole Sparks of one customer on one meter in [start, end). */
  async total(meterId: string, customer: string, start: Date, end: Date): Promise<bigint> {
    const windows = await this.summaries(meterId, customer, start, end, false);
    return BigInt([...windows.values()].reduce((a, v) => a + v, 0));
  }

  /** Cancels a meter event by identifier (Stripe accepts this within 24 h of receipt). */
  async cancelEvent(eventName: string, identifier: string): Promise<{ status: string; statusCode: number }> {
    const adjustment = await stripeCall("billing.meter_event_adjustments.create", () =>
      this.stripe.billing.meterEventAdjustments.create({
        type: "cancel",
        event_name: eventName,
        cancel: { identifier },
      }),
    );
    return { status: adjustment.status, statusCode: adjustment.lastResponse.statusCode };
  }
}
