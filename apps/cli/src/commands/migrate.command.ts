import { join } from "node:path";
import { loadConfig } from "@sparks/config";
import type { Command } from "commander";

export function registerMigrate(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("migrate")
    .description("apply database migrations (DATABASE_URL, else the embedded PGlite under ./.data)")
    .action(async () => {
      const config = loadConfig(env);
      const { createDatabase, migrateDatabase } = await import("@sparks/db");
      const database = await createDatabase(
        config.databaseUrl ? { url: config.databaseUrl } : { dataDir: join(config.dataDir, "pglite") },
      );
      try {
        await migrateDatabase(database);
        process.stdout.write(`migrations applied (${database.kind})\n`);
      } finally {
        await database.close();
      }
    });
}
