import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SlackPost {
  /** The parsed JSON body (`{text, blocks?}`), or null when it was not JSON. */
  body: unknown;
  raw: string;
  contentType: string | undefined;
  at: Date;
}

export interface TestSlack {
  /** The incoming-webhook URL to put in `SLACK_WEBHOOK_URL`. */
  url: string;
  /** Posts answered 200 (the ones Slack would have shown). */
  posts(): SlackPost[];
  /** Every request, including the ones answered with a failure. */
  attempts(): number;
  /** Answer the next `count` posts with `status` (default 500) instead of 200 "ok". */
  failNext(count: number, status?: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/**
 * A Slack incoming-webhook receiver on 127.0.0.1 (random port). Like Slack it answers
 * `200 ok` to a JSON body with `text` or `blocks`, `400 invalid_payload` otherwise, and it can
 * be told to fail the next posts.
 */
export async function createTestSlack(): Promise<TestSlack> {
  const posts: SlackPost[] = [];
  let attempts = 0;
  const failures: { status: number; headers: Record<string, string> }[] = [];

  const server: Server = createServer(async (request, response) => {
    const raw = await readBody(request);
    attempts += 1;
    if (request.method !== "POST" || request.url !== "/services/T000/B000/test") {
      response.writeHead(404, { "content-type": "text/plain" }).end("no_service");
      return;
    }
    const failure = failures.shift();
    if (failure) {
      response.writeHead(failure.status, { "content-type": "text/plain", ...failure.headers }).end("fail");
      return;
    }
    let body: unknown = null;
    try {
      body = JSON.parse(raw);
    } catch {
      // Slack answers 400 to a body it cannot parse.
    }
    const valid = typeof body === "object" && body !== null && ("text" in body || "blocks" in body);
    if (!valid) {
      response.writeHead(400, { "content-type": "text/plain" }).end("invalid_payload");
      return;
    }
    posts.push({ body, raw, contentType: request.headers["content-type"], at: new Date() });
    response.writeHead(200, { "content-type": "text/plain" }).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/test`,
    posts: () => [...posts],
    attempts: () => attempts,
    failNext(count, status = 500, headers = {}) {
      for (let i = 0; i < count; i += 1) failures.push({ status, headers });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
