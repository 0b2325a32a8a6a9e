import type { z } from "zod";
import { LangfuseError } from "./langfuse.error";

/** A response that does not match the documented shape is a server/version problem, not a blip. */
export function parseResponse<S extends z.ZodType>(schema: S, body: unknown, endpoint: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
  throw new LangfuseError(`Langfuse ${endpoint} returned an unexpected response (${where})`, {
    retryable: false,
  });
}
