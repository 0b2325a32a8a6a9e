export { createTestRedis, TEST_REDIS_URL } from "./test-redis";
