import type { Alert } from "./alert.types";

// Slack's limits: header text 150 chars, section text 3,000 chars.
const HEADER_MAX = 150;
const SECTION_MAX = 3_000;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function context(alert: Alert): string {
  const parts = [`kind: ${alert.kind}`];
  if (alert.customerId) parts.push(`customer: ${alert.customerId}`);
  parts.push(`key: ${alert.dedupeKey}`);
  return parts.join(" · ");
}

/** Slack incoming-webhook body: `text` is the notification fallback, `blocks` the rich view. */
export function slackMessage(alert: Alert): { text: string; blocks: unknown[] } {
  const text = cut(`[Sparks] ${alert.title}${alert.text ? `\n${alert.text}` : ""}`, SECTION_MAX);
  const blocks: unknown[] = [
    { type: "header", text: { type: "plain_text", text: cut(alert.title, HEADER_MAX) } },
  ];
  if (alert.text)
    blocks.push({ type: "section", text: { type: "mrkdwn", text: cut(alert.text, SECTION_MAX) } });
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: cut(context(alert), SECTION_MAX) }] });
  return { text, blocks };
}

/** Plain-text e-mail: subject line and body with the alert's data for the operator. */
export function emailMessage(alert: Alert): { subject: string; text: string } {
  const lines = [alert.text, "", context(alert)];
  if (Object.keys(alert.data).length > 0) lines.push("", JSON.stringify(alert.data, null, 2));
  return { subject: `[Sparks] ${alert.title}`, text: lines.join("\n") };
}
