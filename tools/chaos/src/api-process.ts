/**
 * The API in its own process for the load run, so the load generator does not share its event
 * loop. Same composition as `startApi`, but on the run's Redis prefix (so requested syncs
 * never reach another test's queues). Prints `listening <port>` when ready.
 */
import { buildApp } from "@sparks/api";
import { loadConfig } from "@sparks/config";
import { createDatabase } from "@sparks/db";
import { createRedisConnection, QueueService } from "@sparks/queues";
import { z } from "zod";

const spec = z
  .object({ env: z.record(z.string(), z.string()), redisUrl: z.string(), prefix: z.string() })
  .parse(JSON.parse(process.argv[2] ?? "{}"));
const config = loadConfig(spec.env);
const database = await createDatabase({ url: config.databaseUrl ?? undefined, maxConnections: 10 });
const redis = createRedisConnection(spec.redisUrl, "producer");
const queues = new QueueService({ connection: redis, prefix: spec.prefix });
const app = await buildApp({ config, database, redis, queues, logger: false });
await app.listen({ host: "127.0.0.1", port: 0 });
const address = app.server.address();
const port = typeof address === "object" && address ? address.port : 0;
process.stdout.write(`listening ${port}\n`);
// A normal exit on SIGINT, so a profiled run (`--cpu-prof`) writes its profile.
process.once("SIGINT", () => {
  void app.close().finally(() => process.exit(0));
});
