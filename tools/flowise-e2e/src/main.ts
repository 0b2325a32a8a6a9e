import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_BILLING_CONFIG, deriveUsage, type ObservationInput } from "@sparks/core";
import { createLangfuseEmulator, createOpenAiStub } from "@sparks/emulators";
import { createLangfuseReader } from "@sparks/langfuse";
import { createRelay } from "@sparks/relay";
import { billThroughSparks } from "./billing.leg";

/**
 * `pnpm e2e:flowise` (outside CI: ~8 minutes and ~3 GB the first time, then ~1 minute).
 * Installs flowise@3.1.4 into FLOWISE_E2E_DIR (default /tmp/sparks-flowise-e2e) and starts it
 * with a chatflow (Flowise's "Conversation Chain" template) and an Agentflow V2 ("Translator"
 * template), both on ChatOpenAI against a local OpenAI stub (non-streaming) and with Langfuse
 * analytics pointed at `sparks relay`, in front of the Langfuse emulator acting as a v4 server
 * (events_only). Four predictions (3 chatflow with Override Configuration enabled, 1 agentflow)
 * carry billing data in overrideConfig.analytics.langFuse, and one more goes to a copy of the
 * chatflow with Override Configuration off (Flowise drops the override: it must end quarantined
 * with the Flowise hint); the script checks what Sparks derives
 * from Langfuse, then bills it through Sparks' worker pipeline and checks the Stripe emulator's
 * meter totals. Exit code 0 on success.
 */

const DIR = process.env.FLOWISE_E2E_DIR ?? "/tmp/sparks-flowise-e2e";
const PORT = Number(process.env.FLOWISE_E2E_PORT ?? 3998);
const FLOWISE = `http://127.0.0.1:${PORT}`;
const PROMPT_TOKENS = 42;
const COMPLETION_TOKENS = 8;

function step(message: string): void {
  process.stderr.write(`[e2e:flowise] ${message}\n`);
}

function install(): void {
  if (existsSync(join(DIR, "node_modules/flowise/bin/run"))) return;
  mkdirSync(DIR, { recursive: true });
  step(`installing flowise@3.1.4 into ${DIR} (about 8 minutes, 3 GB)`);
  execFileSync("npm", ["init", "-y"], { cwd: DIR, stdio: "ignore" });
  // faiss-node's install script downloads a binary: skip scripts, then build sqlite3 alone.
  execFileSync("npm", ["install", "flowise@3.1.4", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: DIR,
    stdio: "inherit",
  });
  execFileSync("npm", ["rebuild", "sqlite3"], { cwd: DIR, stdio: "inherit" });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function startFlowise(): ChildProcess {
  const data = join(DIR, `data-${Date.now()}`);
  mkdirSync(data, { recursive: true });
  const secret = (c: string) => c.repeat(32);
  const child = spawn("node", [join(DIR, "node_modules/flowise/bin/run"), "start"], {
    cwd: DIR,
    env: {
      ...process.env,
      PORT: String(PORT),
      HOST: "127.0.0.1",
      DATABASE_PATH: data,
      SECRETKEY_PATH: data,
      BLOB_STORAGE_PATH: join(data, "storage"),
      LOG_PATH: join(data, "logs"),
      JWT_AUTH_TOKEN_SECRET: secret("a"),
      JWT_REFRESH_TOKEN_SECRET: secret("b"),
      EXPRESS_SESSION_SECRET: secret("c"),
      TOKEN_HASH_SECRET: secret("d"),
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return child;
}

// Flowise's JSON answers, read loosely: only the few fields used here.
type Loose = Record<string, unknown> & { id?: string; text?: unknown };

async function json(res: Response, what: string): Promise<Loose> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return text ? (JSON.parse(text) as Loose) : {};
}

/** Flowise 3.x needs an account even for the API: register, log in, create an API key. */
async function apiKey(): Promise<string> {
  const account = { name: "Sparks E2E", email: "e2e@example.com", credential: "Sparks-e2e-Passw0rd!" };
  await json(
    await fetch(`${FLOWISE}/api/v1/account/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: account }),
    }),
    "register",
  );
  const login = await fetch(`${FLOWISE}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: account.email, password: account.credential }),
  });
  await json(login, "login");
  const cookies = login.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const keys = await json(
    await fetch(`${FLOWISE}/api/v1/apikey`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: cookies, "x-request-from": "internal" },
      body: JSON.stringify({
        keyName: "sparks-e2e",
        permissions: [
          "chatflows:view",
          "chatflows:create",
          "chatflows:update",
          "credentials:view",
          "credentials:create",
        ],
      }),
    }),
    "create API key",
  );
  const key = (keys as unknown as { keyName: string; apiKey: string }[]).find(
    (k) => k.keyName === "sparks-e2e",
  )?.apiKey;
  if (!key) throw new Error("no API key returned");
  return key;
}

async function main(): Promise<void> {
  install();
  const langfuse = await createLangfuseEmulator({ legacyIngestion: "events_only" });
  const relay = await createRelay({ targetUrl: langfuse.url });
  const openai = await createOpenAiStub({ promptTokens: PROMPT_TOKENS, completionTokens: COMPLETION_TOKENS });
  step(`Langfuse emulator (v4, events_only) ${langfuse.url}; relay ${relay.url}; OpenAI stub ${openai.url}`);
  const flowise = startFlowise();
  try {
    await waitFor("Flowise", async () => (await fetch(`${FLOWISE}/api/v1/ping`)).ok, 120_000);
    const key = await apiKey();
    const auth = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const credential = async (name: string, credentialName: string, plainDataObj: Record<string, string>) =>
      (
        await json(
          await fetch(`${FLOWISE}/api/v1/credentials`, {
            method: "POST",
            headers: auth,
            body: JSON.stringify({ name, credentialName, plainDataObj }),
          }),
          `credential ${name}`,
        )
      ).id as string;
    const openaiCredential = await credential("stub-openai", "openAIApi", { openAIApiKey: "sk-stub" });
    const langfuseCredential = await credential("sparks-relay", "langfuseApi", {
      langFuseSecretKey: langfuse.secretKey,
      langFusePublicKey: langfuse.publicKey,
      langFuseEndpoint: relay.url,
    });

    // Flowise's own template, so the flow JSON is what its UI produces.
    const template = JSON.parse(
      readFileSync(join(DIR, "node_modules/flowise/marketplaces/chatflows/Conversation Chain.json"), "utf8"),
    ) as {
      nodes: { data: { name: string; credential?: string; inputs: Record<string, unknown> } }[];
      edges: unknown[];
    };
    for (const node of template.nodes) {
      if (node.data.name === "chatOpenAI") {
        node.data.credential = openaiCredential;
        node.data.inputs.credential = openaiCredential;
        node.data.inputs.modelName = "gpt-4o-mini";
        node.data.inputs.basepath = openai.url;
        node.data.inputs.streaming = false;
      }
    }
    const chatflow = await json(
      await fetch(`${FLOWISE}/api/v1/chatflows`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          name: "sparks-e2e",
          type: "CHATFLOW",
          deployed: true,
          flowData: JSON.stringify({ nodes: template.nodes, edges: template.edges }),
          analytic: JSON.stringify({ langFuse: { credentialId: langfuseCredential, status: true } }),
          apiConfig: JSON.stringify({ overrideConfig: { status: true } }),
        }),
      }),
      "create chatflow",
    );
    step(`chatflow ${chatflow.id} created`);

    // The same chatflow with Override Configuration off: Flowise drops the caller's langFuse override.
    const closedChatflow = await json(
      await fetch(`${FLOWISE}/api/v1/chatflows`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          name: "sparks-e2e-override-off",
          type: "CHATFLOW",
          deployed: true,
          flowData: JSON.stringify({ nodes: template.nodes, edges: template.edges }),
          analytic: JSON.stringify({ langFuse: { credentialId: langfuseCredential, status: true } }),
        }),
      }),
      "create chatflow without override",
    );

    // An Agentflow V2 from Flowise's "Translator" template, its LLM node switched to ChatOpenAI on the stub.
    const agentTemplate = JSON.parse(
      readFileSync(join(DIR, "node_modules/flowise/marketplaces/agentflowsv2/Translator.json"), "utf8"),
    ) as { nodes: { data: { name: string; inputs: Record<string, unknown> } }[]; edges: unknown[] };
    for (const node of agentTemplate.nodes) {
      if (node.data.name === "llmAgentflow") {
        node.data.inputs.llmModel = "chatOpenAI";
        node.data.inputs.llmModelConfig = {
          FLOWISE_CREDENTIAL_ID: openaiCredential,
          credential: openaiCredential,
          modelName: "gpt-4o-mini",
          temperature: 0.9,
          streaming: false,
          basepath: openai.url,
          llmModel: "chatOpenAI",
        };
      }
    }
    const agentflow = await json(
      await fetch(`${FLOWISE}/api/v1/chatflows`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          name: "sparks-e2e-agentflow",
          type: "AGENTFLOW",
          deployed: true,
          flowData: JSON.stringify({ nodes: agentTemplate.nodes, edges: agentTemplate.edges }),
          analytic: JSON.stringify({ langFuse: { credentialId: langfuseCredential, status: true } }),
        }),
      }),
      "create agentflow",
    );
    step(`agentflow ${agentflow.id} created`);

    const customers = [
      "auth0|e2e-ada",
      "auth0|e2e-grace",
      "auth0|e2e-ada",
      "auth0|e2e-grace",
      "auth0|e2e-ada",
    ];
    const flows = [chatflow.id, chatflow.id, chatflow.id, agentflow.id, closedChatflow.id];
    for (const [i, customer] of customers.entries()) {
      const answer = await json(
        await fetch(`${FLOWISE}/api/v1/prediction/${flows[i]}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            question: `Question ${i + 1}`,
            streaming: false,
            overrideConfig: {
              sessionId: `e2e-${i}`,
              analytics: {
                langFuse: { userId: customer, metadata: { cost_center: "e2e", compute_ms: 1500 } },
              },
            },
          }),
        }),
        `prediction ${i + 1}`,
      );
      step(`prediction ${i + 1}: ${String(answer.text).slice(0, 60)}`);
    }
    // langfuse-langchain flushes ~10 s after the answer; the relay then forwards.
    await waitFor("5 relayed traces", async () => langfuse.store.traceCount >= 5, 90_000);
    await relay.drained();

    const reader = createLangfuseReader({
      publicKey: langfuse.publicKey,
      secretKey: langfuse.secretKey,
      baseUrl: langfuse.url,
      api: "v2",
    });
    const byTrace = new Map<
      string,
      { userId: string | null; metadata: Record<string, unknown> | null; observations: ObservationInput[] }
    >();
    for await (const page of reader.readWindow({
      from: new Date(Date.now() - 3600_000),
      to: new Date(Date.now() + 60_000),
    })) {
      for (const r of page) {
        const t = byTrace.get(r.traceId) ?? { userId: null, metadata: null, observations: [] };
        t.userId ??= r.userId;
        if (r.isRoot) t.metadata = r.metadata;
        t.observations.push({
          id: r.observationId,
          type: r.type,
          metadata: r.metadata,
          usageDetails: r.usageDetails,
        });
        byTrace.set(r.traceId, t);
      }
    }
    const billed = [...byTrace.entries()].map(([traceId, t]) =>
      deriveUsage(
        {
          traceId,
          timestamp: new Date(),
          userId: t.userId,
          metadata: t.metadata,
          observations: t.observations,
        },
        DEFAULT_BILLING_CONFIG,
      ),
    );
    const summary = billed.map((d) => ({
      customer: d.customerRef,
      items: d.items.map((i) => `${i.category}=${i.quantity}`).join(","),
      problem: d.traceProblem,
    }));
    step(`derived: ${JSON.stringify(summary)}`);
    const expected = customers.slice(0, 4).map((c) => ({
      customer: c,
      items: `ai_tokens=${PROMPT_TOKENS + COMPLETION_TOKENS},compute=1500`,
      problem: null,
    }));
    const sort = (xs: typeof summary) =>
      [...xs].sort((a, b) => String(a.customer).localeCompare(String(b.customer)));
    const offProblem = summary.find((x) => x.customer === null)?.problem ?? "";
    if (!offProblem.includes("Override Configuration")) {
      throw new Error(
        `the override-off trace should lack a customer with the Flowise hint, got ${JSON.stringify(summary)}`,
      );
    }
    if (JSON.stringify(sort(summary.filter((x) => x.customer !== null))) !== JSON.stringify(sort(expected))) {
      throw new Error(`expected ${JSON.stringify(sort(expected))}`);
    }
    step("derivation OK; now Sparks' worker pipeline → Stripe emulator");
    const { totals, quarantined } = await billThroughSparks(langfuse, customers);
    step(`quarantined: ${JSON.stringify(quarantined)}`);
    if (quarantined.length !== 1 || !quarantined[0]?.includes("Override Configuration")) {
      throw new Error("expected exactly the override-off prediction quarantined with the Flowise hint");
    }
    step(`Stripe meter totals: ${JSON.stringify(Object.fromEntries(totals))}`);
    // Each: 2 predictions × 50 tokens = 10 Sparks; 2 × 1.5 s = 2.5 → 2 whole Sparks sent (never more than exact).
    const want = {
      "auth0|e2e-ada|sparks_ai_tokens": 10,
      "auth0|e2e-ada|sparks_compute": 2,
      "auth0|e2e-grace|sparks_ai_tokens": 10,
      "auth0|e2e-grace|sparks_compute": 2,
    };
    for (const [key, value] of Object.entries(want)) {
      if (totals.get(key) !== value)
        throw new Error(`Stripe ${key}: expected ${value}, got ${totals.get(key)}`);
    }
    step(
      "OK: 3 chatflow + 1 Agentflow V2 predictions → sparks relay → Langfuse v4 (events_only) → Sparks → Stripe totals exact",
    );
  } finally {
    flowise.kill("SIGTERM");
    await relay.close(2000);
    await openai.close();
    await langfuse.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[e2e:flowise] FAILED: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
