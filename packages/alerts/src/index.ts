// The table lives in packages/db (all SQL does); re-exported where the alerts are.
export {
  type AlertDisposition,
  AlertsSentRepository,
  type ClaimResult,
  deliveryKey,
} from "@sparks/db";
export {
  ALERT_KINDS,
  type Alert,
  type AlertInput,
  type AlertKind,
  type DeliveryChannelName,
  isAlertKind,
  SUMMARY_KIND,
} from "./alert.types";
export { AlertDeliveryError } from "./alert-delivery.error";
export { emailMessage, slackMessage } from "./alert-format";
export {
  DEFAULT_ALERTS_PER_KIND_PER_HOUR,
  isOverBudget,
  type RateWindow,
  rateWindow,
} from "./alert-rate.policy";
export type { DeliveryChannel } from "./delivery-channel";
export { EmailChannel, type EmailChannelOptions } from "./email.channel";
export {
  alertKeys,
  type EnqueueAlertOptions,
  type EnqueueResult,
  enqueueAlert,
  type QuotaAlertInput,
  quotaAlert,
  quotaCountersLostAlert,
  type SpendCapAlertInput,
  spendCapAlert,
} from "./enqueue-alert";
export { createNotifier, Notifier, type NotifierOptions } from "./notifier";
export { SlackChannel, type SlackChannelOptions } from "./slack.channel";
export { DEFAULT_SPIKE_OPTIONS, detectSpike, type SpikeOptions, type SpikeVerdict } from "./spike.detector";
