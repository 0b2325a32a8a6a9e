export {
  CORRECTION_METADATA_KEY,
  type CreditInput,
  type CreditNoteInput,
  type InvoiceStageName,
  type InvoiceStageOf,
  METER_EVENT_ADJUSTMENT_OPERATION,
  StripeCorrectionService,
} from "./correction.service";
export {
  AUTH0_USER_METADATA_KEY,
  type FindOrCreateCustomerInput,
  idempotencyKey,
  SPARKS_CUSTOMER_METADATA_KEY,
  type StripeCustomerRef,
  StripeCustomerService,
} from "./customer.service";
export {
  DISCOUNT_METADATA_KEY,
  HOLD_METADATA_KEY,
  type InvoiceLineState,
  InvoiceService,
  type InvoiceState,
  LABEL_METADATA_KEY,
  type SubscriptionState,
  tierFromLookupKey,
} from "./invoice.service";
export type {
  MeterEventInput,
  MeterEventOutcome,
  MeterEventResult,
  MeterEventSenderOptions,
  StripeCallAudit,
} from "./meter-event.sender";
export { METER_EVENT_OPERATION, MeterEventSender, validateMeterEvent } from "./meter-event.sender";
export {
  MAX_STREAM_EVENTS,
  METER_EVENT_STREAM_OPERATION,
  MeterEventStreamSender,
  type MeterEventStreamSenderOptions,
  type StreamBatchResult,
} from "./meter-event-stream.sender";
export { StripeMeterSummaryService } from "./meter-summary.service";
export { ensureCustomerRatePrices, RATE_METADATA_KEY } from "./negotiated-rate.prices";
export {
  aggregateIdentifier,
  customerRateLookupKey,
  MAX_IDENTIFIER_LENGTH,
  type MeterEventIdentifierInput,
  meterEventIdentifier,
  meterEventName,
  priceLookupKey,
} from "./stripe.naming";
export { stripeCall } from "./stripe-call";
export { StripeCallError, type StripeCallErrorInit } from "./stripe-call.error";
export {
  CATEGORY_METADATA_KEY,
  type CatalogChange,
  type CatalogEntry,
  type CatalogSetupOptions,
  type CatalogSetupResult,
  CUSTOMER_PAYLOAD_KEY,
  centsPerSpark,
  PREFIX_METADATA_KEY,
  setupStripeCatalog,
  VALUE_PAYLOAD_KEY,
} from "./stripe-catalog.setup";
export {
  createStripeClient,
  DEFAULT_STRIPE_TIMEOUT_MS,
  type StripeApiBase,
  type StripeClient,
  type StripeClientOptions,
} from "./stripe-client.factory";
export { type ClassifiedStripeError, classifyStripeError, parseRetryAfter } from "./stripe-error.classifier";
export { formatSetupReport } from "./stripe-setup.report";
export {
  type CreateTierSubscriptionInput,
  isMonthStartAnchor,
  MONTH_START_ANCHOR,
  StripeSubscriptionService,
  type SubscriptionAnchor,
  type SubscriptionItemSummary,
  type SubscriptionSummary,
  TIER_METADATA_KEY,
  type TierPrice,
  type TierPrices,
} from "./subscription.service";
export {
  type VerifiedWebhookEvent,
  type VerifyWebhookOptions,
  verifyStripeWebhook,
  WEBHOOK_TOLERANCE_SECONDS,
  type WebhookRejection,
  WebhookVerificationError,
} from "./webhook.verifier";
