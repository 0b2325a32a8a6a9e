/**
 * The headers every HTML page and its assets are served with: the page's own Content Security
 * Policy (its directives joined), no referrer, no sniffing, never framed.
 */
export function pageSecurityHeaders(cspDirectives: readonly string[]) {
  return {
    "content-security-policy": cspDirectives.join("; "),
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  } as const;
}
