/** Abuse limits off for API tests that are about something else (see @sparks/testing). */
export { ABUSE_LIMITS_OFF_ENV as TEST_LIMITS_ENV } from "@sparks/testing";
