export type { MeterTotal, SummaryWindow } from "./meter-event.ledger";
export { MeterEventLedger } from "./meter-event.ledger";
export type {
	StripeEmulator,
	StripeEmulatorOptions,
	WebhookEventInput,
} from "./stripe.emulator";
export { createStripeEmulator } from "./stripe.emulator";
export type { ChosenFault, FaultRule, RandomFaults } from "./stripe.faults";
export { StripeFaults } from "./stripe.faults";
export type { FaultKind, RecordedRequest } from "./stripe.recording";
export { StripeRecording } from "./stripe.recording";
export type { StoreEventListener } from "./stripe.store";
export { STRIPE_API_VERSION, StripeStore } from "./stripe.store";
export type * from "./stripe.types";
export type { StripeErrorBody } from "./stripe-api.error";
export { StripeApiError } from "./stripe-api.error";
export type { FormObject, FormValue } from "./stripe-form.parser";
export { parseForm } from "./stripe-form.parser";
export type { WebhookDelivery } from "./stripe-webhook.signer";
export { signPayload as signStripeWebhookPayload } from "./stripe-webhook.signer";
