import { defineConfig } from "drizzle-kit";

// Only `generate` is used: migrations are written to ./drizzle and applied at runtime by
// `migrateDatabase`, so no database credentials are needed here.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/index.ts",
  out: "./drizzle",
  strict: true,
});
