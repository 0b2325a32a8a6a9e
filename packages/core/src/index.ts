export { BaseError, type BaseErrorOptions, isPermanentError } from "./base.error";
export { floorDiv, halfUpDiv, pow10 } from "./bigint.math";
export { DEFAULT_BILLING_CONFIG } from "./billing-config.defaults";
export type {
  BillingConfig,
  CategoryRate,
  CountersFailPolicy,
  DiscountStep,
  TierPolicy,
} from "./billing-config.types";
export {
  type BilledLine,
  CANCEL_WINDOW_MS,
  type CancelCandidate,
  type CorrectionTotals,
  correctionTotals,
  creditCents,
  type GiveBackInput,
  type GiveBackStep,
  type InvoiceStage,
  planGiveBack,
  type SegmentCreditInput,
  splitIntoPriceRuns,
} from "./billing-correction.policy";
export { CoreError, type CoreErrorCode } from "./core.error";
export {
  addDecimal,
  compareDecimal,
  DECIMAL_ZERO,
  type Decimal,
  type DecimalParseError,
  decimalOf,
  divideToInteger,
  type FormatDecimalOptions,
  formatDecimal,
  fromScaledInteger,
  isExactAtScale,
  MAX_DECIMAL_EXPONENT,
  makeDecimal,
  multiplyDecimal,
  parseDecimal,
  type Rounding,
  subtractDecimal,
  toScaledInteger,
} from "./decimal.math";
export {
  type DesiredContext,
  desiredItems,
  INVALID_CATEGORY,
  TOO_OLD_REASON,
  tierAt,
} from "./desired-items.derivation";
export {
  type InvoiceLineInput,
  type InvoicePrice,
  type PricedInvoiceLine,
  priceInvoice,
} from "./invoice.pricing";
export { isLocked, type LedgerPlan, planLedger } from "./ledger.planner";
export type {
  CustomerTierRef,
  LedgerEntry,
  LedgerEntryWrite,
  ObservationRecord,
  TierSegment,
} from "./ledger-item.types";
export {
  closedWindowEnd,
  isOlderThanStripeLimit,
  type MonthKey,
  type MonthParseError,
  monthCloseAt,
  monthOf,
  monthRange,
  nextMonth,
  parseMonth,
  prevMonth,
  STRIPE_MAX_EVENT_AGE_DAYS,
} from "./month.period";
export {
  countersFailPolicy,
  crossedThresholds,
  evaluateQuota,
  type QuotaDecision,
  type QuotaDenialReason,
  type QuotaInput,
  reachedThresholds,
  spendCapAmountProblem,
  spendCapSparks,
} from "./quota.policy";
export {
  driftAlertLines,
  fixIdentifier,
  HOUR_SECONDS,
  hourlyGaps,
  hourOf,
  type MarginRow,
  marginRows,
  pickMatching,
  resendIdentifiers,
} from "./reconciliation.policy";
export { err, ok, type Result } from "./result.util";
export { toNanoSparks } from "./sparks.conversion";
export { sparksToNanoLimit } from "./sparks.limits";
export {
  CENT_SCALE,
  formatCents,
  formatSparks,
  formatUsdExact,
  NANO_PER_SPARK,
  parseNanoSparks,
  roundUsdToCents,
  SPARK_SCALE,
  sparksToUsd,
  wholeSparks,
} from "./sparks.money";
export { isTierName, TIER_NAMES, type TierName } from "./tier.constants";
export { buildTraceInput, groupByTrace } from "./trace-input.builder";
export { describeUnstorableText, findUnstorableText, type UnstorableText } from "./unstorable-text.guard";
export { deriveUsage, describeValue } from "./usage.derivation";
export type { DerivedItem, DerivedUsage, ObservationInput, QuarantinedItem, TraceInput } from "./usage.types";
export { isUsageCategory, USAGE_CATEGORIES, type UsageCategory } from "./usage-category.constants";
export {
  BILLED_STATUSES,
  type BilledStatus,
  billedStatusesSqlList,
  isBilledStatus,
  USAGE_ITEM_STATUSES,
  type UsageItemStatus,
} from "./usage-item-status.constants";
export {
  discountCents,
  type MonthTierSegment,
  monthTierSegments,
  priceTierSegments,
  type SegmentSparks,
  type SegmentsPrice,
  segmentRateUsd,
  type TierPeriod,
  tierRateUsd,
} from "./usage-report.pricing";
export {
  type DiscountChoice,
  discountFor,
  type MonthPrice,
  type PriceMonthInput,
  priceMonth,
} from "./volume-discount.pricing";
export {
  allocateWholeSparks,
  driftNano,
  type ExactItem,
  nextWholeSparksToSend,
  overSent,
  type SendState,
} from "./whole-sparks.rounding";
