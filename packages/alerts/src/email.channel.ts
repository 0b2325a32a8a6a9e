import nodemailer, { type Transporter } from "nodemailer";
import type { Alert } from "./alert.types";
import { AlertDeliveryError } from "./alert-delivery.error";
import { emailMessage } from "./alert-format";
import type { DeliveryChannel } from "./delivery-channel";

export interface EmailChannelOptions {
  /** `smtp://user:pass@host:port` or `smtps://...` (nodemailer's URL form). */
  smtpUrl: string;
  to: string;
  /** Default: the recipient itself, which relays that restrict senders usually accept. */
  from?: string;
  timeoutMs?: number;
}

interface SmtpErrorShape {
  responseCode?: unknown;
  code?: unknown;
}

/** SMTP 5xx replies are permanent (bad recipient, auth refused); everything else may pass. */
function isPermanent(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const { responseCode, code } = e as SmtpErrorShape;
  if (typeof responseCode === "number") return responseCode >= 500;
  return code === "EAUTH" || code === "EENVELOPE";
}

/** E-mail over SMTP with nodemailer; one connection per message (alerts are rare). */
export class EmailChannel implements DeliveryChannel {
  readonly name = "email" as const;
  private readonly transport: Transporter;

  constructor(private readonly options: EmailChannelOptions) {
    const timeout = options.timeoutMs ?? 10_000;
    this.transport = nodemailer.createTransport({
      url: options.smtpUrl,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  async send(alert: Alert): Promise<void> {
    const { subject, text } = emailMessage(alert);
    try {
      await this.transport.sendMail({
        from: this.options.from ?? this.options.to,
        to: this.options.to,
        subject,
        text,
        headers: { "X-Sparks-Alert-Kind": alert.kind, "X-Sparks-Dedupe-Key": alert.dedupeKey },
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // nodemailer messages carry the server's reply, never the URL's password.
      throw new AlertDeliveryError("email", message.slice(0, 200), !isPermanent(e), { cause: e });
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
