import { newId } from "../stripe.ids";
import type { StripeRouter } from "../stripe.router";
import type { StripeStore } from "../stripe.store";
import type { BillingCycleAnchorConfig, SubscriptionItemObject, SubscriptionObject } from "../stripe.types";
import { StripeApiError } from "../stripe-api.error";
import { anchorFromConfig, nextPeriodEnd } from "../stripe-billing-cycle";
import type { FormObject } from "../stripe-form.parser";
import { newestFirst, paginate } from "../stripe-list";
import {
  applyMetadata,
  asObj,
  COMMON,
  checkParams,
  LIST,
  optArr,
  optBool,
  optEnum,
  optInt,
  optObj,
  optStr,
  type ParamShape,
  reqStr,
} from "../stripe-params";

const ITEM_CREATE: ParamShape = {
  metadata: "map",
  plan: "s",
  price: "s",
  quantity: "s",
  tax_rates: ["s"],
  discounts: ["map"],
};
const ITEM_UPDATE: ParamShape = { ...ITEM_CREATE, id: "s", deleted: "s", clear_usage: "s" };
const SHARED: { [key: string]: ParamShape } = {
  ...COMMON,
  add_invoice_items: ["map"],
  automatic_tax: { enabled: "s" },
  cancel_at: "s",
  cancel_at_period_end: "s",
  collection_method: "s",
  days_until_due: "s",
  default_payment_method: "s",
  description: "s",
  discounts: [{ coupon: "s", discount: "s", promotion_code: "s" }],
  metadata: "map",
  off_session: "s",
  payment_behavior: "s",
  payment_settings: "map",
  proration_behavior: "s",
  trial_end: "s",
};
const PRORATION = ["create_prorations", "always_invoice", "none"] as const;

function discounts(store: StripeStore, params: FormObject): string[] | undefined {
  const raw = optArr(params, "discounts");
  if (raw === undefined) return params.discounts === "" ? [] : undefined;
  return raw.map((d, i) => {
    const coupon = reqStr(asObj(d, `discounts[${i}]`), "coupon", `discounts[${i}][coupon]`);
    if (!store.coupons.has(coupon))
      throw StripeApiError.noSuch("coupon", coupon, `discounts[${i}][coupon]`, 400);
    return coupon;
  });
}

function newItem(
  store: StripeStore,
  sub: SubscriptionObject,
  raw: FormObject,
  i: number,
): SubscriptionItemObject {
  const priceId = optStr(raw, "price", `items[${i}][price]`) ?? optStr(raw, "plan", `items[${i}][plan]`);
  if (priceId === undefined) throw StripeApiError.missing(`items[${i}][price]`);
  const price = store.price(priceId, `items[${i}][price]`);
  if (price.recurring === null) {
    throw StripeApiError.invalid(
      `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`,
      `items[${i}][price]`,
    );
  }
  const now = store.nowSec();
  // Items share the subscription's cycle: an item added later bills from the current period.
  const sibling = sub.items.data[0];
  const start = sibling?.current_period_start ?? now;
  const item: SubscriptionItemObject = {
    id: newId("si", 14),
    object: "subscription_item",
    billing_thresholds: null,
    created: now,
    current_period_end:
      sibling?.current_period_end ??
      nextPeriodEnd(
        sub.billing_cycle_anchor,
        start,
        price.recurring.interval,
        price.recurring.interval_count,
        sub.billing_cycle_anchor_config?.day_of_month,
      ),
    current_period_start: start,
    discounts: [],
    metadata: applyMetadata({}, raw),
    price,
    subscription: sub.id,
    tax_rates: [],
  };
  // Metered prices carry no quantity on Stripe.
  if (price.recurring.usage_type === "licensed") {
    item.quantity = optInt(raw, "quantity", `items[${i}][quantity]`) ?? 1;
  } else if (optStr(raw, "quantity") !== undefined) {
    throw StripeApiError.invalid("You cannot set the quantity for metered plans.", `items[${i}][quantity]`);
  }
  return item;
}

function intIn(raw: FormObject, key: string, min: number, max: number): number | null {
  const param = `billing_cycle_anchor_config[${key}]`;
  const v = optInt(raw, key, param);
  if (v === undefined) return null;
  if (v < min || v > max)
    throw StripeApiError.invalid(`Invalid ${param}: must be between ${min} and ${max}`, param);
  return v;
}

/** `billing_cycle_anchor_config`: day 1–31 required; hour, minute, second, month optional. */
function anchorConfig(params: FormObject): BillingCycleAnchorConfig | null {
  const raw = optObj(params, "billing_cycle_anchor_config");
  if (raw === undefined) return null;
  const day = intIn(raw, "day_of_month", 1, 31);
  if (day === null) throw StripeApiError.missing("billing_cycle_anchor_config[day_of_month]");
  return {
    day_of_month: day,
    hour: intIn(raw, "hour", 0, 23),
    minute: intIn(raw, "minute", 0, 59),
    month: intIn(raw, "month", 1, 12),
    second: intIn(raw, "second", 0, 59),
  };
}

function applyShared(store: StripeStore, sub: SubscriptionObject, params: FormObject): void {
  sub.metadata = applyMetadata(sub.metadata, params);
  const description = optStr(params, "description");
  if (description !== undefined) sub.description = description === "" ? null : description;
  const cape = optBool(params, "cancel_at_period_end");
  if (cape !== undefined) {
    sub.cancel_at_period_end = cape;
    sub.cancel_at = cape ? (sub.items.data[0]?.current_period_end ?? null) : null;
  }
  const d = discounts(store, params);
  if (d !== undefined) sub.discounts = d;
  const pm = optStr(params, "default_payment_method");
  if (pm !== undefined) sub.default_payment_method = pm;
  const cm = optEnum(params, "collection_method", ["charge_automatically", "send_invoice"] as const);
  if (cm !== undefined) sub.collection_method = cm;
  const days = optInt(params, "days_until_due");
  if (days !== undefined) sub.days_until_due = days;
}

export function registerSubscriptionRoutes(router: StripeRouter): void {
  router.add("POST", "/v1/subscriptions", ({ params, store }) => {
    checkParams(params, {
      ...SHARED,
      backdate_start_date: "s",
      billing_cycle_anchor: "s",
      billing_cycle_anchor_config: { day_of_month: "s", hour: "s", minute: "s", month: "s", second: "s" },
      billing_mode: { type: "s", flexible: { proration_discounts: "s" } },
      currency: "s",
      customer: "s",
      items: [ITEM_CREATE],
      trial_period_days: "s",
    });
    const customer = store.customer(reqStr(params, "customer"), "customer");
    const itemsRaw = optArr(params, "items");
    if (itemsRaw === undefined || itemsRaw.length === 0) throw StripeApiError.missing("items");
    optEnum(params, "proration_behavior", PRORATION);
    const modeRaw = optObj(params, "billing_mode");
    const mode =
      modeRaw === undefined
        ? "classic"
        : optEnum(modeRaw, "type", ["classic", "flexible"] as const, "billing_mode[type]");
    if (mode === undefined) throw StripeApiError.missing("billing_mode[type]");
    const now = store.nowSec();
    const config = anchorConfig(params);
    const anchorParam = optInt(params, "billing_cycle_anchor");
    if (config !== null && anchorParam !== undefined) {
      throw StripeApiError.invalid(
        "You may only specify one of these parameters: billing_cycle_anchor, billing_cycle_anchor_config.",
        "billing_cycle_anchor_config",
      );
    }
    if (anchorParam !== undefined && anchorParam < now) {
      throw StripeApiError.invalid("billing_cycle_anchor cannot be in the past.", "billing_cycle_anchor");
    }
    // Without an anchor Stripe anchors the cycle at creation; with one, the period before the
    // anchor is a short (prorated) first period.
    const anchor = config !== null ? anchorFromConfig(now, config) : (anchorParam ?? now);
    const id = newId("sub");
    const sub: SubscriptionObject = {
      id,
      object: "subscription",
      billing_cycle_anchor: anchor,
      billing_cycle_anchor_config: config,
      billing_mode: {
        type: mode,
        flexible: mode === "flexible" ? { proration_discounts: "itemized" } : null,
        updated_at: now,
      },
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      collection_method: "charge_automatically",
      created: now,
      currency: "usd",
      customer: customer.id,
      days_until_due: null,
      default_payment_method: null,
      description: null,
      discounts: [],
      ended_at: null,
      items: {
        object: "list",
        data: [],
        has_more: false,
        total_count: 0,
        url: `/v1/subscription_items?subscription=${id}`,
      },
      latest_invoice: null,
      livemode: false,
      metadata: {},
      pending_update: null,
      start_date: now,
      status: "active",
      test_clock: null,
      trial_end: null,
      trial_start: null,
    };
    sub.items.data = itemsRaw.map((raw, i) => newItem(store, sub, asObj(raw, `items[${i}]`), i));
    sub.items.total_count = sub.items.data.length;
    const currencies = new Set(sub.items.data.map((it) => it.price.currency));
    if (currencies.size > 1)
      throw StripeApiError.invalid("All prices on a subscription must have the same currency.", "items");
    sub.currency = sub.items.data[0]?.price.currency ?? "usd";
    if (
      config !== null &&
      sub.items.data.some((it) => !["month", "year"].includes(it.price.recurring?.interval ?? ""))
    ) {
      throw StripeApiError.invalid(
        "billing_cycle_anchor_config is only valid with monthly and yearly price intervals.",
        "billing_cycle_anchor_config",
      );
    }
    applyShared(store, sub, params);
    store.subscriptions.set(id, sub);
    for (const item of sub.items.data) {
      store.priceChanges.push({
        subscription: id,
        item: item.id,
        fromPrice: null,
        toPrice: item.price.id,
        at: now,
        prorationBehavior: "none",
        billingMode: mode,
      });
    }
    store.reschedule();
    store.emit("customer.subscription.created", sub);
    // Stripe's first invoice of a subscription: usage is billed in arrears, so for metered
    // prices it is empty; it is finalized at once and, with nothing to collect, paid.
    const first = store.newInvoice(customer.id, {
      billing_reason: "subscription_create",
      currency: sub.currency,
      parent: {
        type: "subscription_details",
        subscription_details: { subscription: id, metadata: sub.metadata },
      },
      period_start: now,
      period_end: now,
    });
    sub.latest_invoice = first.id;
    store.emit("invoice.created", first);
    store.finalizeInvoice(first.id);
    return sub;
  });

  router.add("GET", "/v1/subscriptions", ({ params, store }) => {
    checkParams(params, {
      ...LIST,
      automatic_tax: "map",
      collection_method: "s",
      created: "map",
      current_period_end: "map",
      current_period_start: "map",
      customer: "s",
      price: "s",
      status: "s",
      test_clock: "s",
    });
    const customer = optStr(params, "customer");
    const price = optStr(params, "price");
    const status = optStr(params, "status");
    const items = newestFirst(store.subscriptions).filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (price === undefined || s.items.data.some((it) => it.price.id === price)) &&
        (status === "all" || (status === undefined ? s.status !== "canceled" : s.status === status)),
    );
    return paginate(items, params, "/v1/subscriptions");
  });

  router.add("GET", "/v1/subscriptions/:id", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    return store.subscription(pathParams[0] as string);
  });

  router.add("POST", "/v1/subscriptions/:id", ({ params, pathParams, store }) => {
    checkParams(params, {
      ...SHARED,
      billing_cycle_anchor: "map",
      cancellation_details: { comment: "s", feedback: "s" },
      items: [ITEM_UPDATE],
      pause_collection: "map",
      proration_date: "s",
    });
    const sub = store.subscription(pathParams[0] as string);
    if (sub.status === "canceled") {
      throw StripeApiError.invalid(
        "A canceled subscription can only update its cancellation_details and metadata.",
        undefined,
      );
    }
    const proration = optEnum(params, "proration_behavior", PRORATION) ?? "create_prorations";
    // API 2026-10-28 takes `billing_cycle_anchor[type]`; older versions the bare string.
    const anchorRaw = params.billing_cycle_anchor;
    const resetAnchor =
      (typeof anchorRaw === "object" && !Array.isArray(anchorRaw)
        ? optEnum(anchorRaw, "type", ["now", "unchanged"] as const, "billing_cycle_anchor[type]")
        : optEnum(params, "billing_cycle_anchor", ["now", "unchanged"] as const)) === "now";
    const previous = structuredClone(sub);
    const now = store.nowSec();
    const itemsRaw = optArr(params, "items") ?? [];
    itemsRaw.forEach((r, i) => {
      const raw = asObj(r, `items[${i}]`);
      const itemId = optStr(raw, "id", `items[${i}][id]`);
      if (itemId === undefined) {
        const added = newItem(store, sub, raw, i);
        sub.items.data.push(added);
        store.priceChanges.push({
          subscription: sub.id,
          item: added.id,
          fromPrice: null,
          toPrice: added.price.id,
          at: now,
          prorationBehavior: proration,
          billingMode: sub.billing_mode.type,
        });
        return;
      }
      const item = sub.items.data.find((it) => it.id === itemId);
      if (item === undefined)
        throw StripeApiError.noSuch("subscription_item", itemId, `items[${i}][id]`, 400);
      if (optBool(raw, "deleted", `items[${i}][deleted]`) === true) {
        sub.items.data = sub.items.data.filter((it) => it !== item);
        store.priceChanges.push({
          subscription: sub.id,
          item: item.id,
          fromPrice: item.price.id,
          toPrice: null,
          at: now,
          prorationBehavior: proration,
          billingMode: sub.billing_mode.type,
        });
        return;
      }
      const priceId = optStr(raw, "price", `items[${i}][price]`);
      if (priceId !== undefined && priceId !== item.price.id) {
        const price = store.price(priceId, `items[${i}][price]`);
        // A swap keeps the item and its period; the change itself is kept as history.
        store.priceChanges.push({
          subscription: sub.id,
          item: item.id,
          fromPrice: item.price.id,
          toPrice: price.id,
          at: now,
          prorationBehavior: proration,
          billingMode: sub.billing_mode.type,
        });
        item.price = price;
        if (price.recurring?.usage_type === "metered") delete item.quantity;
        else item.quantity = item.quantity ?? 1;
      }
      const quantity = optInt(raw, "quantity", `items[${i}][quantity]`);
      if (quantity !== undefined) item.quantity = quantity;
      item.metadata = applyMetadata(item.metadata, raw);
    });
    sub.items.total_count = sub.items.data.length;
    applyShared(store, sub, params);
    if (resetAnchor) {
      // billing_cycle_anchor=now ends the current period now: Stripe invoices it at once
      // (usage so far included) and the new cycle is anchored at this moment.
      const start = sub.items.data[0]?.current_period_start ?? now;
      sub.billing_cycle_anchor = now;
      sub.billing_cycle_anchor_config = null;
      store.cutSubscriptionInvoice(sub, start, now, "subscription_update");
    }
    store.reschedule();
    const changed: Record<string, unknown> = {};
    for (const key of [
      "billing_cycle_anchor",
      "items",
      "metadata",
      "cancel_at_period_end",
      "cancel_at",
      "discounts",
      "description",
    ] as const) {
      if (JSON.stringify(previous[key]) !== JSON.stringify(sub[key])) changed[key] = previous[key];
    }
    if (Object.keys(changed).length > 0) store.emit("customer.subscription.updated", sub, changed);
    return sub;
  });

  router.add("DELETE", "/v1/subscriptions/:id", ({ params, pathParams, store }) => {
    checkParams(params, {
      ...COMMON,
      cancellation_details: { comment: "s", feedback: "s" },
      invoice_now: "s",
      prorate: "s",
    });
    const sub = store.subscription(pathParams[0] as string);
    if (sub.status === "canceled") {
      throw StripeApiError.invalid(`No such subscription: '${sub.id}'`, "id", "resource_missing", 404);
    }
    const now = store.nowSec();
    sub.status = "canceled";
    sub.canceled_at = now;
    sub.ended_at = now;
    store.emit("customer.subscription.deleted", sub);
    return sub;
  });
}
