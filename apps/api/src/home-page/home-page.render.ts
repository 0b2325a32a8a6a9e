import type { AppConfig } from "@sparks/config";

export interface HomePageLink {
  label: string;
  href: string;
}

export interface HomePageView {
  version: string;
  /** What runs in this process, e.g. `["API", "workers", "schedulers"]`. */
  parts: readonly string[];
  demo: boolean;
  config: AppConfig;
  /** Demo customers, each with a link that opens the usage page as them; empty outside demo. */
  demoCustomers: readonly HomePageLink[];
  demoAdmin: HomePageLink | null;
  /** Demo mode, seen from another machine: the signed links are withheld. */
  demoLinksHidden?: boolean;
  bullBoardLogin: { user: string; password: string } | null;
  /** The stylesheet's URL (with its content hash). */
  cssHref: string;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Every value on the page goes through here: config values and ids are never trusted as HTML. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function link(l: HomePageLink): string {
  return `<a href="${escapeHtml(l.href)}">${escapeHtml(l.label)}</a>`;
}

function stripeMode(config: AppConfig): string {
  const s = config.stripe;
  if (!s.secretKey) return '<span class="warn">not configured (STRIPE_SECRET_KEY)</span>';
  const mode = s.livemode ? "live mode" : "test mode";
  if (s.apiBase) {
    return `${mode}, local Stripe-compatible server at <code>${escapeHtml(`${s.apiBase.protocol}://${s.apiBase.host}:${s.apiBase.port}`)}</code>`;
  }
  return `${mode}, api.stripe.com`;
}

function langfuseSource(config: AppConfig): string {
  const l = config.langfuse;
  if (!l.publicKey)
    return '<span class="warn">not configured (LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY)</span>';
  return `<code>${escapeHtml(l.baseUrl)}</code>, API ${escapeHtml(l.api)}, lag ${l.lagSeconds} s`;
}

function auth0Source(config: AppConfig, demo: boolean): string {
  const a = config.auth0;
  if (!a.issuer || !a.audience)
    return '<span class="warn">not configured (AUTH0_DOMAIN, AUTH0_AUDIENCE)</span>';
  return `${demo ? "demo signer (local JWKS), " : ""}issuer <code>${escapeHtml(a.issuer)}</code>`;
}

/**
 * The home page as one HTML string: no script at all (its CSP allows none), only links. In demo
 * mode the links carry freshly signed short-lived tokens in the URL fragment, which the usage
 * page reads and removes from the address bar; a fragment is never sent to a server.
 */
export function renderHomePage(view: HomePageView): string {
  const { config } = view;
  const demoSection = view.demo
    ? `<section class="customers" aria-labelledby="demo-h">
  <h2 id="demo-h">Demo customers</h2>
  ${
    view.demoLinksHidden
      ? '<p class="lead" id="demo-hidden">The demo customers\' sign-in links are shown only to a browser on the machine running Sparks (open http://127.0.0.1 there).</p>'
      : '<p class="lead">Each link opens the usage page signed in as that customer (a token valid for an hour, made when this page was loaded).</p>'
  }
  <ul id="demo-customers">
${view.demoCustomers.map((c) => `    <li>${link(c)}</li>`).join("\n")}
  </ul>
  ${view.demoAdmin ? `<p>Admin view (every customer, billing:admin): <span id="demo-admin">${link(view.demoAdmin)}</span></p>` : ""}
  ${view.bullBoardLogin ? `<p class="note">Bull Board login: <code>${escapeHtml(view.bullBoardLogin.user)}</code> / <code>${escapeHtml(view.bullBoardLogin.password)}</code></p>` : ""}
  <p class="note">Demo mode: no Langfuse or Stripe keys were set, so Sparks reads and bills local emulators seeded with Flowise-like traffic. Nothing here reaches a real account.</p>
</section>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sparks${view.demo ? " (demo)" : ""}</title>
<link rel="stylesheet" href="${escapeHtml(view.cssHref)}">
</head>
<body>
<main>
<h1>Sparks${view.demo ? " · demo" : ""}</h1>
<p class="lead">Bills AI usage traced to Langfuse through Stripe Billing Meters, in Sparks ($${escapeHtml(config.billing.sparkRateUsd)} each).</p>
${demoSection}
<section aria-labelledby="runs-h">
  <h2 id="runs-h">What runs</h2>
  <dl id="what-runs">
    <dt>This process</dt><dd>${escapeHtml(view.parts.join(", "))} · version ${escapeHtml(view.version)}</dd>
    <dt>Usage source</dt><dd>Langfuse ${langfuseSource(config)}</dd>
    <dt>Billing</dt><dd>Stripe ${stripeMode(config)}, meters <code>${escapeHtml(config.stripe.meterPrefix)}.*</code></dd>
    <dt>Sign-in</dt><dd>Auth0 ${auth0Source(config, view.demo)}</dd>
    <dt>Sync</dt><dd>schedule <code>${escapeHtml(config.syncSchedule)}</code></dd>
  </dl>
</section>
<section aria-labelledby="links-h">
  <h2 id="links-h">Pages and endpoints</h2>
  <ul id="links">
    <li><a href="/usage">Usage page</a> — Sparks by category and day, quota (needs an access token)</li>
    <li><a href="/admin/queues">Bull Board</a> — queues, failed jobs, retries (operator login)</li>
    <li><a href="/docs/ui">API documentation</a> · <a href="/docs">OpenAPI document</a></li>
    <li><a href="/metrics">Prometheus metrics</a></li>
    <li><a href="/healthz">Liveness</a> · <a href="/readyz">Readiness</a> (Redis and Postgres)</li>
  </ul>
  <p class="note">Before going live: <code>pnpm sparks doctor</code> checks the configuration end to end.</p>
</section>
</main>
</body>
</html>
`;
}
