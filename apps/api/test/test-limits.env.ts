/**
 * Abuse limits off for tests that are about something else: they send hundreds of requests
 * (and deliberate auth failures) from one address, and a loaded CI machine can stall the event
 * loop past the shedding threshold. `limits.test.ts` turns each limit on and checks it.
 */
export const TEST_LIMITS_ENV = {
  SPARKS_RATE_LIMIT: "0",
  SPARKS_AUTH_FAILURE_LIMIT: "0",
  SPARKS_MAX_EVENT_LOOP_DELAY_MS: "0",
} as const;
