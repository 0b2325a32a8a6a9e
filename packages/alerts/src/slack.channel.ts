import type { Alert } from "./alert.types";
import { AlertDeliveryError } from "./alert-delivery.error";
import { slackMessage } from "./alert-format";
import type { DeliveryChannel } from "./delivery-channel";

export interface SlackChannelOptions {
  webhookUrl: string;
  /** Per request (default 10 s); the lease on a claimed delivery is longer than this. */
  timeoutMs?: number;
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** Slack incoming webhook: POST JSON `{text, blocks}`; Slack answers 200 "ok". */
export class SlackChannel implements DeliveryChannel {
  readonly name = "slack" as const;

  constructor(private readonly options: SlackChannelOptions) {}

  async send(alert: Alert): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.options.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(slackMessage(alert)),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (e) {
      // Never echo the URL: the webhook URL is the secret.
      const reason = e instanceof Error && e.name === "TimeoutError" ? "timed out" : "could not connect";
      throw new AlertDeliveryError("slack", `webhook ${reason}`, true, { cause: e });
    }
    const body = await response.text().catch(() => "");
    if (response.ok) return;
    const detail = `webhook answered ${response.status}${body ? ` (${body.slice(0, 100)})` : ""}`;
    // 429 and 5xx pass; other 4xx (invalid_payload, no_service, channel_is_archived) need an operator.
    const retryable = response.status === 429 || response.status >= 500;
    throw new AlertDeliveryError("slack", detail, retryable, {
      retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
    });
  }
}
