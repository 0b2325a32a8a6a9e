export { ABUSE_LIMITS_OFF_ENV } from "./abuse-limits-off.env";
export { type PrivateRedis, startPrivateRedis } from "./private-redis";
export { createTestAuth0, type MintTokenOptions, type TestAuth0 } from "./test-auth0";
export {
  createTestAuth0Management,
  type ManagementRequest,
  type TestAuth0Management,
} from "./test-auth0-management";
export {
  createTestDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
  type TestDatabaseOptions,
} from "./test-database";
export { createTestRedis, TEST_REDIS_URL } from "./test-redis";
export { createTestSlack, type SlackPost, type TestSlack } from "./test-slack";
export { createTestSmtp, type SmtpMessage, type TestSmtp } from "./test-smtp";
