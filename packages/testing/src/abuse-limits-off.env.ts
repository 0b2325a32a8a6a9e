/**
 * The API's abuse limits off, for harnesses that are about something else: tests, chaos and
 * bench send hundreds of requests (and deliberate auth failures) from one address, and a loaded
 * machine or an injected fault stalls the event loop past the shedding threshold — the limits
 * would answer 429/503 to the very traffic being measured. `apps/api/test/limits.test.ts`
 * turns each limit on and checks it.
 */
export const ABUSE_LIMITS_OFF_ENV = {
  SPARKS_RATE_LIMIT: "0",
  SPARKS_AUTH_FAILURE_LIMIT: "0",
  SPARKS_MAX_EVENT_LOOP_DELAY_MS: "0",
} as const;
