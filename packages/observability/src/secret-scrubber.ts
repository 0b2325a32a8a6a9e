import type { AppConfig } from "@sparks/config";

const REPLACEMENT = "[REDACTED]";
// Bearer credentials and anything shaped like a JWT (three base64url parts, the first two
// starting with `eyJ` = `{"`), wherever they end up in a log line: URLs, error messages, bodies.
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi;
const JWT = /\beyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Secret values held in the config, plus passwords embedded in connection URLs. */
export function secretsFromConfig(config: AppConfig): string[] {
  const values = [
    config.stripe.secretKey,
    config.stripe.webhookSecret,
    config.langfuse.secretKey,
    config.auth0.clientSecret,
    config.auth0.actionSecret,
    config.admin?.password ?? null,
    config.databaseUrl,
    config.redisUrl,
    config.alerts.smtpUrl,
    config.alerts.slackWebhookUrl,
  ];
  for (const url of [config.databaseUrl, config.redisUrl, config.alerts.smtpUrl]) {
    if (!url) continue;
    try {
      const password = decodeURIComponent(new URL(url).password);
      if (password) values.push(password);
    } catch {
      // Config validated the URL already; an unparsable one has no password to extract.
    }
  }
  return values.filter((v): v is string => typeof v === "string" && v.length >= 6);
}

/**
 * Builds a function that removes secret values from a serialized log line. It runs on the
 * final text (pino's `streamWrite` hook), so a secret is caught wherever it hides: a message,
 * an error's stack, a nested object. JSON-escaped forms are matched too.
 */
export function createSecretScrubber(secrets: readonly string[]): (line: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < 6) continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
  }
  // Longest first, so a URL containing a password is replaced whole before the password is.
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  const literal = sorted.length > 0 ? new RegExp(sorted.map(escapeRegExp).join("|"), "g") : null;
  return (line) => {
    let out = line.replace(BEARER, `$1 ${REPLACEMENT}`).replace(JWT, REPLACEMENT);
    if (literal) out = out.replace(literal, REPLACEMENT);
    return out;
  };
}
