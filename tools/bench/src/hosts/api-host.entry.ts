import { buildApp } from "@sparks/api";
import { loadConfig } from "@sparks/config";
import { createDatabase } from "@sparks/db";
import { createRedisConnection, QueueService } from "@sparks/queues";
import { childArgument, serveIpc } from "./ipc.channel";

export interface ApiHostSpec {
  env: Record<string, string>;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
}

/** The Sparks API as `sparks api` composes it (no request logs), listening on a free loopback port. */
const spec = childArgument() as ApiHostSpec;
const config = loadConfig(spec.env);
const database = await createDatabase({ url: spec.databaseUrl });
const redis = createRedisConnection(spec.redisUrl, "producer");
const queues = new QueueService({ connection: redis, prefix: spec.prefix });
const app = await buildApp({ config, database, redis, queues, logger: false });
const url = await app.listen({ host: "127.0.0.1", port: 0 });

serveIpc({ url: () => url }, async () => {
  await app.close();
  await queues.close();
  redis.disconnect();
  await database.close();
});
process.send?.({ ready: true });
