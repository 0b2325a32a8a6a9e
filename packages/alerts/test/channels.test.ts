import { createTestSlack, createTestSmtp, type TestSlack, type TestSmtp } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Alert, AlertDeliveryError, createNotifier, EmailChannel, SlackChannel } from "../src";

const alert: Alert = {
  kind: "quota_80",
  dedupeKey: "quota:80:cus_1:2026-11",
  customerId: "cus_1",
  title: "Customer cus_1 is at 80% of its free quota",
  text: "8000 of 10000 Sparks used in 2026-11.",
  data: { month: "2026-11" },
};

describe("SlackChannel against a local Slack receiver", () => {
  let slack: TestSlack;
  beforeAll(async () => {
    slack = await createTestSlack();
  });
  afterAll(async () => {
    await slack.close();
  });

  it("posts JSON {text, blocks} with the title and the text", async () => {
    await new SlackChannel({ webhookUrl: slack.url }).send(alert);
    const post = slack.posts().at(-1);
    expect(post?.contentType).toBe("application/json");
    const body = post?.body as { text: string; blocks: { type: string }[] };
    expect(body.text).toContain(alert.title);
    expect(body.text).toContain("8000 of 10000");
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "context"]);
  });

  it("a 5xx and a 429 are retryable, a 4xx is not", async () => {
    const channel = new SlackChannel({ webhookUrl: slack.url });
    slack.failNext(1, 503);
    const e1 = await channel.send(alert).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(AlertDeliveryError);
    expect((e1 as AlertDeliveryError).retryable).toBe(true);

    slack.failNext(1, 429, { "retry-after": "7" });
    const e2 = (await channel.send(alert).catch((e: unknown) => e)) as AlertDeliveryError;
    expect(e2.retryable).toBe(true);
    expect(e2.retryAfterMs).toBe(7_000);

    slack.failNext(1, 404);
    const e3 = (await channel.send(alert).catch((e: unknown) => e)) as AlertDeliveryError;
    expect(e3.retryable).toBe(false);
  });

  it("an unreachable webhook is retryable and the error does not carry the URL", async () => {
    const secretUrl = "http://127.0.0.1:1/services/SECRET/TOKEN";
    const e = (await new SlackChannel({ webhookUrl: secretUrl })
      .send(alert)
      .catch((x: unknown) => x)) as AlertDeliveryError;
    expect(e).toBeInstanceOf(AlertDeliveryError);
    expect(e.retryable).toBe(true);
    expect(e.message).not.toContain("SECRET");
  });
});

describe("EmailChannel against a local SMTP server", () => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await createTestSmtp();
  });
  afterAll(async () => {
    await smtp.close();
  });

  it("sends one message to ALERT_EMAIL_TO with the alert in subject, headers and body", async () => {
    const channel = new EmailChannel({ smtpUrl: smtp.url, to: "ops@example.test" });
    await channel.send(alert);
    await channel.close();
    const message = smtp.messages().at(-1);
    expect(message?.to).toEqual(["ops@example.test"]);
    expect(message?.subject).toBe(`[Sparks] ${alert.title}`);
    expect(message?.header("x-sparks-dedupe-key")).toBe(alert.dedupeKey);
    expect(message?.body).toContain("8000 of 10000");
  });

  it("a temporary SMTP refusal (451) is retryable, a permanent one (550) is not", async () => {
    const channel = new EmailChannel({ smtpUrl: smtp.url, to: "ops@example.test" });
    smtp.failNext(1, 451);
    const e1 = (await channel.send(alert).catch((e: unknown) => e)) as AlertDeliveryError;
    expect(e1).toBeInstanceOf(AlertDeliveryError);
    expect(e1.retryable).toBe(true);
    smtp.failNext(1, 550);
    const e2 = (await channel.send(alert).catch((e: unknown) => e)) as AlertDeliveryError;
    expect(e2.retryable).toBe(false);
    await channel.close();
  });

  it("wrong SMTP credentials are a permanent failure", async () => {
    const url = smtp.url.replace("test-smtp-password", "wrong-password");
    const channel = new EmailChannel({ smtpUrl: url, to: "ops@example.test" });
    const e = (await channel.send(alert).catch((x: unknown) => x)) as AlertDeliveryError;
    expect(e.retryable).toBe(false);
    expect(e.message).not.toContain("wrong-password");
    await channel.close();
  });
});

describe("createNotifier", () => {
  it("builds the channels the config names, none when nothing is set", () => {
    const none = createNotifier({ slackWebhookUrl: null, smtpUrl: null, emailTo: null });
    expect(none.configured).toBe(false);
    const both = createNotifier({
      slackWebhookUrl: "http://127.0.0.1:9/hook",
      smtpUrl: "smtp://127.0.0.1:25",
      emailTo: "ops@example.test",
    });
    expect(both.channels.map((c) => c.name)).toEqual(["slack", "email"]);
  });

  it("warns and leaves e-mail off when only one of SMTP_URL / ALERT_EMAIL_TO is set", () => {
    const warnings: unknown[] = [];
    const notifier = createNotifier(
      { slackWebhookUrl: null, smtpUrl: "smtp://127.0.0.1:25", emailTo: null },
      { warn: (obj: unknown) => warnings.push(obj) },
    );
    expect(notifier.configured).toBe(false);
    expect(warnings).toEqual([{ missing: "ALERT_EMAIL_TO" }]);
  });
});
