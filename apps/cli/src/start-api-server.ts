import type { AppConfig } from "@sparks/config";
import type { Database } from "@sparks/db";
import type { Logger } from "pino";

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/** Placeholder until @sparks/api exports its server starter; replaced when it lands. */
export async function startApiServer(_opts: {
  config: AppConfig;
  database: Database;
  redisUrl: string;
  logger: Logger;
}): Promise<ApiServer> {
  throw new Error("the API is not built yet");
}
