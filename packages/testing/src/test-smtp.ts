import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface SmtpMessage {
  from: string | null;
  to: string[];
  /** The raw message (headers and body) as received after DATA. */
  raw: string;
  /** `Subject:` header (unfolded), or null. */
  subject: string | null;
  /** Header lookup by lower-case name (first occurrence, unfolded). */
  header(name: string): string | null;
  /** The body after the blank line that ends the headers. */
  body: string;
}

export interface TestSmtp {
  /** `smtp://user:pass@127.0.0.1:<port>` for `SMTP_URL`. */
  url: string;
  messages(): SmtpMessage[];
  /** Refuse the next `count` messages at DATA with `code` (default 451, a temporary failure). */
  failNext(count: number, code?: number): void;
  close(): Promise<void>;
}

const USER = "alerts";
const PASSWORD = "test-smtp-password";

function parseHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? "" : raw.slice(split).replace(/^\r?\n\r?\n/, "");
  const headers = new Map<string, string>();
  // Continuation lines start with whitespace (RFC 5322 folding).
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/**
 * A local SMTP server (the `smtp-server` package, plain text, AUTH PLAIN/LOGIN required) on
 * 127.0.0.1 with a random port. It records every accepted message.
 */
export async function createTestSmtp(): Promise<TestSmtp> {
  const messages: SmtpMessage[] = [];
  const failures: number[] = [];

  const server = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    authOptional: false,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD) callback(null, { user: USER });
      else callback(new Error("Invalid username or password"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const code = failures.shift();
        if (code !== undefined) {
          const error = Object.assign(new Error("try again later"), { responseCode: code });
          callback(error);
          return;
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        const { headers, body } = parseHeaders(raw);
        const from = session.envelope.mailFrom;
        messages.push({
          from: from ? from.address : null,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject: headers.get("subject") ?? null,
          header: (name) => headers.get(name.toLowerCase()) ?? null,
          body,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  server.on("error", () => undefined);
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://${USER}:${PASSWORD}@127.0.0.1:${port}`,
    messages: () => [...messages],
    failNext(count, code = 451) {
      for (let i = 0; i < count; i += 1) failures.push(code);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
