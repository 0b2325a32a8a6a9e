import Fastify from "fastify";

/**
 * An OpenAI-compatible `POST /v1/chat/completions` for tests and the Flowise end-to-end run:
 * deterministic answers with a `usage` block, so a LangChain `ChatOpenAI` (what Flowise's chat
 * model nodes use) reports token usage to Langfuse without the internet. Non-streaming only:
 * with `streaming: true` LangChain fetches a tokenizer from the internet (REFERENCE.md).
 */
export interface OpenAiStubOptions {
  port?: number;
  host?: string;
  /** Tokens reported per call; default 42 prompt + 8 completion. */
  promptTokens?: number;
  completionTokens?: number;
}

export interface OpenAiStub {
  /** Base URL including `/v1` (what `ChatOpenAI`'s `configuration.baseURL` takes). */
  url: string;
  /** Chat completion calls answered so far. */
  calls: number;
  close(): Promise<void>;
}

export async function createOpenAiStub(options: OpenAiStubOptions = {}): Promise<OpenAiStub> {
  const promptTokens = options.promptTokens ?? 42;
  const completionTokens = options.completionTokens ?? 8;
  const app = Fastify({ logger: false });
  const state = { calls: 0 };
  app.post("/v1/chat/completions", async (request, reply) => {
    const body = (request.body ?? {}) as { model?: unknown; stream?: unknown };
    if (body.stream === true) {
      return reply.code(400).send({
        error: {
          message: "the OpenAI stub answers non-streaming requests only (set streaming=false)",
          type: "invalid_request_error",
        },
      });
    }
    state.calls++;
    return {
      id: `chatcmpl-stub-${state.calls}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: typeof body.model === "string" ? body.model : "gpt-4o-mini",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: `Stub answer ${state.calls}.` },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    };
  });
  // Flowise and LangChain may list models on start-up.
  app.get("/v1/models", async () => ({
    object: "list",
    data: [{ id: "gpt-4o-mini", object: "model", created: 0, owned_by: "stub" }],
  }));
  await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("OpenAI stub has no TCP address");
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${address.port}/v1`,
    get calls() {
      return state.calls;
    },
    close: async () => {
      await app.close();
    },
  };
}
