import type { Alert, DeliveryChannelName } from "./alert.types";

/** One way out for an alert. `send` resolves once the far side accepted it. */
export interface DeliveryChannel {
  readonly name: DeliveryChannelName;
  /** Throws AlertDeliveryError. */
  send(alert: Alert): Promise<void>;
  close?(): Promise<void>;
}
