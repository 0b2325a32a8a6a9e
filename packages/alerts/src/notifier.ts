import type { AppConfig } from "@sparks/config";
import type { Logger } from "pino";
import type { DeliveryChannel } from "./delivery-channel";
import { EmailChannel } from "./email.channel";
import { SlackChannel } from "./slack.channel";

export interface NotifierOptions {
  /** Per request to Slack / per SMTP phase (default 10 s). */
  timeoutMs?: number;
}

/**
 * The configured ways out. With no channel, alerts are only written to the log (and still
 * recorded in `alerts_sent`, so nothing is lost for a later look).
 */
export class Notifier {
  constructor(readonly channels: readonly DeliveryChannel[]) {}

  get configured(): boolean {
    return this.channels.length > 0;
  }

  channel(name: string): DeliveryChannel | undefined {
    return this.channels.find((c) => c.name === name);
  }

  async close(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.close?.()));
  }
}

/** Slack when `SLACK_WEBHOOK_URL` is set; e-mail when `SMTP_URL` and `ALERT_EMAIL_TO` both are. */
export function createNotifier(
  alerts: AppConfig["alerts"],
  logger?: Pick<Logger, "warn">,
  options: NotifierOptions = {},
): Notifier {
  const channels: DeliveryChannel[] = [];
  if (alerts.slackWebhookUrl) {
    channels.push(new SlackChannel({ webhookUrl: alerts.slackWebhookUrl, timeoutMs: options.timeoutMs }));
  }
  if (alerts.smtpUrl && alerts.emailTo) {
    channels.push(
      new EmailChannel({ smtpUrl: alerts.smtpUrl, to: alerts.emailTo, timeoutMs: options.timeoutMs }),
    );
  } else if (alerts.smtpUrl || alerts.emailTo) {
    logger?.warn(
      { missing: alerts.smtpUrl ? "ALERT_EMAIL_TO" : "SMTP_URL" },
      "e-mail alerts need both SMTP_URL and ALERT_EMAIL_TO; e-mail is off",
    );
  }
  return new Notifier(channels);
}
