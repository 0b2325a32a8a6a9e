import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ManagementRequest {
  method: string;
  path: string;
  authorization: string | null;
  body: unknown;
}

export interface TestAuth0Management {
  /** Base URL, e.g. `http://127.0.0.1:53127` (the fake tenant's origin). */
  url: string;
  clientId: string;
  clientSecret: string;
  /** Every request received, in order. */
  requests: ManagementRequest[];
  /** A user's `app_metadata` as the fake holds it (merged like Auth0 does), or undefined. */
  appMetadata(userId: string): Record<string, unknown> | undefined;
  /** How many client-credentials tokens were issued. */
  tokensIssued(): number;
  /** The next `count` PATCH /api/v2/users calls answer `status` (e.g. 503). */
  failUserUpdates(count: number, status?: number): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A stand-in for the Auth0 Management API over real HTTP on 127.0.0.1: the client-credentials
 * grant at `POST /oauth/token` and `PATCH /api/v2/users/{id}` (which merges `app_metadata`
 * one level deep, as Auth0 does). Wrong credentials or a missing token get Auth0's 401s.
 */
export async function createTestAuth0Management(): Promise<TestAuth0Management> {
  const clientId = `client_${randomBytes(6).toString("hex")}`;
  const clientSecret = `secret_${randomBytes(16).toString("hex")}`;
  const tokens = new Set<string>();
  const users = new Map<string, Record<string, unknown>>();
  const requests: ManagementRequest[] = [];
  let failures = 0;
  let failureStatus = 503;
  let base = "";

  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      let body: unknown = null;
      try {
        body = raw === "" ? null : JSON.parse(raw);
      } catch {
        return send(res, 400, { error: "invalid_body", error_description: "not JSON" });
      }
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      requests.push({
        method: req.method ?? "",
        path,
        authorization: req.headers.authorization ?? null,
        body,
      });

      if (req.method === "POST" && path === "/oauth/token") {
        if (
          !isRecord(body) ||
          body.grant_type !== "client_credentials" ||
          body.client_id !== clientId ||
          body.client_secret !== clientSecret
        ) {
          return send(res, 401, { error: "access_denied", error_description: "Unauthorized" });
        }
        if (body.audience !== `${base}/api/v2/`) {
          return send(res, 403, {
            error: "access_denied",
            error_description: "Service not enabled within domain",
          });
        }
        const token = `mgmt_${randomBytes(12).toString("hex")}`;
        tokens.add(token);
        return send(res, 200, {
          access_token: token,
          token_type: "Bearer",
          expires_in: 86400,
          scope: "update:users",
        });
      }

      const userMatch = /^\/api\/v2\/users\/([^/]+)$/.exec(path);
      if (req.method === "PATCH" && userMatch?.[1]) {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
        if (token === undefined || !tokens.has(token)) {
          return send(res, 401, { statusCode: 401, error: "Unauthorized", message: "Invalid token" });
        }
        if (failures > 0) {
          failures -= 1;
          return send(res, failureStatus, {
            statusCode: failureStatus,
            error: "Unavailable",
            message: "fault",
          });
        }
        const userId = decodeURIComponent(userMatch[1]);
        if (!isRecord(body) || !isRecord(body.app_metadata)) {
          return send(res, 400, { statusCode: 400, error: "Bad Request", message: "app_metadata expected" });
        }
        const merged = { ...users.get(userId), ...body.app_metadata };
        users.set(userId, merged);
        return send(res, 200, { user_id: userId, app_metadata: merged });
      }
      return send(res, 404, { statusCode: 404, error: "Not Found" });
    })().catch(() => send(res, 500, { error: "fake failed" }));
  });

  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server.address() as AddressInfo));
  });
  base = `http://127.0.0.1:${address.port}`;

  return {
    url: base,
    clientId,
    clientSecret,
    requests,
    appMetadata: (userId) => users.get(userId),
    tokensIssued: () => tokens.size,
    failUserUpdates(count, status = 503) {
      failures = count;
      failureStatus = status;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
