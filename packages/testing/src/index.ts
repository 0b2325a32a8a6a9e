export {
  createTestDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
  type TestDatabaseOptions,
} from "./test-database";
export { createTestRedis, TEST_REDIS_URL } from "./test-redis";
