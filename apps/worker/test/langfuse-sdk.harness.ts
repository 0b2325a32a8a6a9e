import { ChatPromptTemplate } from "@langchain/core/prompts";
import { ChatOpenAI } from "@langchain/openai";
import { LangfuseSpanProcessor } from "@langfuse/otel";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import type { Harness } from "./pipeline.harness";

/**
 * The SDK-side setup the real-SDK tests (issue 15) share: the Langfuse emulator's credentials,
 * an OTel provider exporting to it through `@langfuse/otel`, and a one-prompt LangChain chain on
 * `ChatOpenAI` (streaming off) against a local OpenAI stub.
 */

/** The Langfuse emulator's API keys and base URL, as an SDK takes them. */
export function langfuseCredentials(h: Harness): { publicKey: string; secretKey: string; baseUrl: string } {
  return { publicKey: h.langfuse.publicKey, secretKey: h.langfuse.secretKey, baseUrl: h.langfuse.url };
}

/** A tracer provider whose Langfuse span processor exports each span at once (its own exporter if given). */
export function langfuseOtelProvider(h: Harness, exporter?: SpanExporter): NodeTracerProvider {
  return new NodeTracerProvider({
    spanProcessors: [
      new LangfuseSpanProcessor({
        ...langfuseCredentials(h),
        exportMode: "immediate",
        ...(exporter ? { exporter } : {}),
      }),
    ],
  });
}

/** `{question}` → `gpt-4o-mini` on the OpenAI stub at `openAiUrl`. */
export function stubChatChain(openAiUrl: string) {
  return ChatPromptTemplate.fromMessages([["human", "{question}"]]).pipe(
    new ChatOpenAI({
      model: "gpt-4o-mini",
      apiKey: "sk-stub",
      streaming: false,
      configuration: { baseURL: openAiUrl },
    }),
  );
}
