import { Writable } from "node:stream";
import { expect, it } from "vitest";
import { createLogger, createSecretScrubber } from "../src";

const SECRET = "sk_test_51SecretValue";

it("removes known secrets, their JSON-escaped form, bearer tokens and JWTs from a line", () => {
  const scrub = createSecretScrubber([SECRET, 'pa"ss-word-1', "short"]);
  const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
  const line = JSON.stringify({
    msg: `key ${SECRET}`,
    pw: 'pa"ss-word-1',
    auth: `Bearer abc.def`,
    jwt,
    n: "short",
  });
  const out = scrub(line);
  expect(out).not.toContain(SECRET);
  expect(out).not.toContain('pa\\"ss-word-1');
  expect(out).not.toContain(jwt);
  expect(out).not.toContain("abc.def");
  // Values under 6 characters are not treated as secrets (they would scrub ordinary words).
  expect(out).toContain('"n":"short"');
});

it("a logger built by createLogger never writes a secret, wherever it hides", async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: "info", destination: sink }, [SECRET]);
  logger.info({ nested: { deeper: [`url https://x:${SECRET}@host`] } }, "connecting");
  logger.error(new Error(`boom ${SECRET}`), "failed");
  await new Promise((resolve) => setImmediate(resolve));
  expect(lines).toHaveLength(2);
  for (const line of lines) expect(line).not.toContain(SECRET);
});
