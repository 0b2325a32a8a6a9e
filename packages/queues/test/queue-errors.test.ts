import { createServer } from "node:net";
import { expect, it } from "vitest";
import { createRedisConnection, QueueService } from "../src";

/** A port nothing listens on: taken from the OS, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

it("while Redis is away, each queue error reaches the logger once, not every reconnect", async () => {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const connection = createRedisConnection(`redis://127.0.0.1:${await deadPort()}`, "producer");
  const queues = new QueueService({
    connection,
    logger: { warn: (obj, msg) => void lines.push({ obj, msg }) },
  });
  queues.queue("syncUsage");
  queues.queue("pushMeterEvents");
  // ioredis retries every few hundred ms: several refused connects within two seconds.
  await new Promise((r) => setTimeout(r, 2_000));
  connection.disconnect();
  await queues.close().catch(() => undefined);
  const refused = lines.filter((l) => String(l.obj.err).includes("ECONNREFUSED"));
  expect(refused).toHaveLength(1);
  expect(refused[0]?.msg).toContain("at most once a minute");
});
