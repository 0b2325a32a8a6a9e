export { createDatabase, DEFAULT_PGLITE_DIR } from "./client";
export type {
  CreateDatabaseOptions,
  Database,
  DatabaseKind,
  DatabaseLogger,
  PgliteDatabase,
  PostgresDatabase,
  SparksDb,
  SparksSchema,
  SparksTx,
} from "./database.types";
export { executeRows } from "./execute-rows";
export { GroupCommitWriter } from "./group-commit.writer";
export { newCustomerId, newSyncRunId, ulidLike } from "./id.util";
export { migrateDatabase, migrationsFolder } from "./migrate";
export {
  type AlertDisposition,
  type AlertRecord,
  AlertsSentRepository,
  type ClaimResult,
  deliveryKey,
  type TimeWindow,
} from "./repositories/alerts-sent.repository";
export { CustomerRepository } from "./repositories/customer.repository";
export {
  type CustomerCloseAttempt,
  CustomerMonthCloseRepository,
  type CustomerMonthState,
  type CustomerOpenWork,
  type InvoiceRecord,
} from "./repositories/customer-month-close.repository";
export { type ExpectedInvoice, expectedInvoice } from "./repositories/expected-invoice.query";
export {
  MeterEventRepository,
  type MeterEventWrite,
  type StoredMeterEvent,
} from "./repositories/meter-event.repository";
export {
  type CloseAttempt,
  MonthCloseRepository,
  type MonthCloseState,
  type MonthOpenWork,
} from "./repositories/month-close.repository";
export {
  ObservationStagingRepository,
  type StagedObservation,
} from "./repositories/observation-staging.repository";
export {
  type LedgerMonthQuotaTotal,
  type LedgerMonthTotal,
  type QuotaCap,
  QuotaRepository,
} from "./repositories/quota.repository";
export {
  type AuditedSend,
  type BilledGroupTotal,
  LATE_REASON_PREFIX,
  type LedgerGroupTotal,
  RECONCILE_CANCEL_OPERATION,
  RECONCILE_REPAIR_OPERATION,
  ReconciliationRepository,
  type RepairAudit,
  type SentMeterEvent,
} from "./repositories/reconciliation.repository";
export { type RetentionCounts, RetentionRepository } from "./repositories/retention.repository";
export {
  closeAdvisoryLocks,
  type ReleaseLock,
  tryAdvisoryLock,
  waitForAdvisoryLock,
} from "./repositories/session-lock";
export { type StripeAuditEntry, StripeAuditRepository } from "./repositories/stripe-audit.repository";
export { SyncRunRepository, type SyncRunView } from "./repositories/sync-run.repository";
export { TierHistoryRepository, type TierSegment } from "./repositories/tier-history.repository";
export {
  type CorrectionWrite,
  type MonthCorrection,
  type OpenShrink,
  type SegmentCredit,
  type ShrinkEvent,
  type StoredCorrection,
  UsageCorrectionRepository,
} from "./repositories/usage-correction.repository";
export {
  exactTextToNano,
  type ItemAssignment,
  type LedgerItem,
  type LedgerItemWrite,
  type UsageGroup,
  UsageItemRepository,
} from "./repositories/usage-item.repository";
export {
  type CategoryTotal,
  type CostCenterTotal,
  type DailyCategoryTotal,
  type PeriodLedger,
  type ReportItem,
  UsageReportRepository,
} from "./repositories/usage-report.repository";
export {
  isDatabase,
  type ReportCustomer,
  type ReportSnapshot,
  readReportSnapshot,
  sparksBetween,
} from "./repositories/usage-report-snapshot.query";
export { WebhookEventRepository, type WebhookEventWrite } from "./repositories/webhook-event.repository";
export * as schema from "./schema";
export * from "./schema";
export { UnexpectedQueryResultError } from "./unexpected-query-result.error";
