/**
 * The objects the emulator keeps, shaped like the API objects in the `stripe` SDK's type
 * definitions (only the fields Sparks and its tests read are guaranteed to be meaningful;
 * the rest carry Stripe's neutral defaults).
 */
export type Metadata = Record<string, string>;

export interface CustomerObject {
  id: string;
  object: "customer";
  address: null;
  balance: number;
  created: number;
  currency: string | null;
  default_source: null;
  delinquent: boolean;
  description: string | null;
  email: string | null;
  invoice_prefix: string;
  invoice_settings: { custom_fields: null; default_payment_method: string | null; footer: null };
  livemode: boolean;
  metadata: Metadata;
  name: string | null;
  phone: string | null;
  preferred_locales: string[];
  shipping: null;
  tax_exempt: "none";
  test_clock: null;
}

export interface ProductObject {
  id: string;
  object: "product";
  active: boolean;
  created: number;
  default_price: string | null;
  description: string | null;
  images: string[];
  livemode: boolean;
  marketing_features: never[];
  metadata: Metadata;
  name: string;
  package_dimensions: null;
  shippable: null;
  statement_descriptor: string | null;
  tax_code: null;
  type: "service";
  unit_label: string | null;
  updated: number;
  url: string | null;
}

export interface PriceTier {
  flat_amount: number | null;
  flat_amount_decimal: string | null;
  unit_amount: number | null;
  unit_amount_decimal: string | null;
  up_to: number | null;
}

export interface PriceObject {
  id: string;
  object: "price";
  active: boolean;
  billing_scheme: "per_unit" | "tiered";
  created: number;
  currency: string;
  custom_unit_amount: null;
  livemode: boolean;
  lookup_key: string | null;
  metadata: Metadata;
  nickname: string | null;
  product: string;
  recurring: {
    interval: "day" | "week" | "month" | "year";
    interval_count: number;
    meter: string | null;
    trial_period_days: null;
    usage_type: "licensed" | "metered";
  } | null;
  tax_behavior: "unspecified" | "inclusive" | "exclusive";
  tiers?: PriceTier[];
  tiers_mode: "graduated" | "volume" | null;
  transform_quantity: { divide_by: number; round: "up" | "down" } | null;
  type: "one_time" | "recurring";
  unit_amount: number | null;
  unit_amount_decimal: string | null;
}

export interface MeterObject {
  id: string;
  object: "billing.meter";
  created: number;
  customer_mapping: { event_payload_key: string; type: "by_id" };
  default_aggregation: { formula: "sum" | "count" | "last" };
  display_name: string;
  event_name: string;
  event_time_window: "day" | "hour" | null;
  livemode: boolean;
  status: "active" | "inactive";
  status_transitions: { deactivated_at: number | null };
  updated: number;
  value_settings: { event_payload_key: string };
}

export interface CouponObject {
  id: string;
  object: "coupon";
  amount_off: number | null;
  created: number;
  currency: string | null;
  duration: "forever" | "once" | "repeating";
  duration_in_months: number | null;
  livemode: boolean;
  max_redemptions: number | null;
  metadata: Metadata;
  name: string | null;
  percent_off: number | null;
  redeem_by: number | null;
  times_redeemed: number;
  valid: boolean;
}

export interface SubscriptionItemObject {
  id: string;
  object: "subscription_item";
  billing_thresholds: null;
  created: number;
  current_period_end: number;
  current_period_start: number;
  discounts: string[];
  metadata: Metadata;
  price: PriceObject;
  quantity?: number;
  subscription: string;
  tax_rates: never[];
}

export type SubscriptionStatus = "active" | "canceled" | "past_due" | "incomplete" | "trialing" | "unpaid";

export interface BillingCycleAnchorConfig {
  day_of_month: number;
  hour: number | null;
  minute: number | null;
  month: number | null;
  second: number | null;
}

export interface SubscriptionObject {
  id: string;
  object: "subscription";
  billing_cycle_anchor: number;
  billing_cycle_anchor_config: BillingCycleAnchorConfig | null;
  billing_mode: {
    type: "classic" | "flexible";
    flexible: { proration_discounts: string } | null;
    updated_at: number;
  };
  cancel_at: number | null;
  cancel_at_period_end: boolean;
  canceled_at: number | null;
  collection_method: "charge_automatically" | "send_invoice";
  created: number;
  currency: string;
  customer: string;
  days_until_due: number | null;
  default_payment_method: string | null;
  description: string | null;
  discounts: string[];
  ended_at: number | null;
  items: {
    object: "list";
    data: SubscriptionItemObject[];
    has_more: boolean;
    total_count: number;
    url: string;
  };
  latest_invoice: string | null;
  livemode: boolean;
  metadata: Metadata;
  pending_update: null;
  start_date: number;
  status: SubscriptionStatus;
  test_clock: null;
  trial_end: number | null;
  trial_start: number | null;
}

export interface InvoiceLineObject {
  id: string;
  object: "line_item";
  amount: number;
  currency: string;
  description: string | null;
  discountable: boolean;
  discounts: string[];
  invoice: string;
  livemode: boolean;
  metadata: Metadata;
  parent: {
    type: "invoice_item_details" | "subscription_item_details";
    invoice_item_details: { invoice_item: string; proration: boolean; subscription: string | null } | null;
    subscription_item_details: { subscription: string; subscription_item: string; proration: boolean } | null;
  };
  period: { start: number; end: number };
  pricing: {
    type: "price_details";
    price_details: { price: string; product: string };
    unit_amount_decimal: string | null;
  } | null;
  quantity: number | null;
  subscription: string | null;
  subtotal: number;
}

export type InvoiceStatus = "draft" | "open" | "paid" | "uncollectible" | "void";

export interface InvoiceObject {
  id: string;
  object: "invoice";
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  attempt_count: number;
  attempted: boolean;
  auto_advance: boolean;
  automatically_finalizes_at: number | null;
  billing_reason: "manual" | "subscription_cycle" | "subscription_create" | "subscription_update";
  collection_method: "charge_automatically" | "send_invoice";
  created: number;
  currency: string;
  customer: string;
  description: string | null;
  discounts: string[];
  due_date: number | null;
  /** Customer balance applied at finalization (negative: credit), Stripe's sign. */
  ending_balance: number | null;
  lines: { object: "list"; data: InvoiceLineObject[]; has_more: boolean; total_count: number; url: string };
  livemode: boolean;
  metadata: Metadata;
  next_payment_attempt: number | null;
  number: string | null;
  parent: {
    type: "subscription_details";
    subscription_details: { subscription: string; metadata: Metadata };
  } | null;
  period_end: number;
  period_start: number;
  post_payment_credit_notes_amount: number;
  pre_payment_credit_notes_amount: number;
  starting_balance: number;
  status: InvoiceStatus;
  status_transitions: {
    finalized_at: number | null;
    marked_uncollectible_at: number | null;
    paid_at: number | null;
    voided_at: number | null;
  };
  subtotal: number;
  total: number;
  total_discount_amounts: Array<{ amount: number; discount: string }>;
  webhooks_delivered_at: number | null;
}

export interface InvoiceItemObject {
  id: string;
  object: "invoiceitem";
  amount: number;
  currency: string;
  customer: string;
  date: number;
  description: string | null;
  discountable: boolean;
  discounts: string[];
  invoice: string | null;
  livemode: boolean;
  metadata: Metadata;
  parent: { type: "subscription_details"; subscription_details: { subscription: string } } | null;
  period: { start: number; end: number };
  pricing: {
    type: "price_details";
    price_details: { price: string; product: string };
    unit_amount_decimal: string | null;
  } | null;
  proration: boolean;
  quantity: number;
  quantity_decimal: string;
  /** Set when created with `subscription`: it lands only on that subscription's invoice. */
  subscription: string | null;
}

export interface CreditNoteLineObject {
  id: string;
  object: "credit_note_line_item";
  amount: number;
  description: string | null;
  discount_amount: number;
  invoice_line_item: string | null;
  livemode: boolean;
  metadata: Metadata;
  quantity: number | null;
  type: "invoice_line_item" | "custom_line_item";
  unit_amount: number | null;
  unit_amount_decimal: string | null;
}

export interface CreditNoteObject {
  id: string;
  object: "credit_note";
  amount: number;
  amount_shipping: number;
  created: number;
  currency: string;
  customer: string;
  customer_balance_transaction: string | null;
  discount_amount: number;
  discount_amounts: never[];
  effective_at: number | null;
  invoice: string;
  lines: { object: "list"; data: CreditNoteLineObject[]; has_more: boolean; url: string };
  livemode: boolean;
  memo: string | null;
  metadata: Metadata;
  number: string;
  out_of_band_amount: number | null;
  pdf: string;
  post_payment_amount: number;
  pre_payment_amount: number;
  reason: "duplicate" | "fraudulent" | "order_change" | "product_unsatisfactory" | null;
  refunds: never[];
  status: "issued" | "void";
  subtotal: number;
  total: number;
  type: "pre_payment" | "post_payment" | "mixed";
  voided_at: number | null;
}

/** A Stripe `Event` as delivered to webhook endpoints. */
export interface StripeEventObject {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  data: { object: unknown; previous_attributes?: Record<string, unknown> };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

/** One accepted meter event, with what the emulator needs for dedupe, summaries and cancels. */
export interface StoredMeterEvent {
  identifier: string;
  eventName: string;
  meterId: string;
  customer: string;
  value: number;
  /** Event time in Unix seconds (the `timestamp` param, or receipt time). */
  timestamp: number;
  /** Receipt time on the emulator clock, in milliseconds. */
  receivedAt: number;
  payload: Record<string, string>;
  source: "v1" | "v2_stream";
  cancelled: boolean;
}

/** A price change on a subscription item, kept so tests can see swaps. */
export interface PriceChange {
  subscription: string;
  item: string;
  fromPrice: string | null;
  toPrice: string | null;
  at: number;
  prorationBehavior: "create_prorations" | "always_invoice" | "none";
  billingMode: "classic" | "flexible";
}
