export { createDatabase, DEFAULT_PGLITE_DIR } from "./client";
export type {
  CreateDatabaseOptions,
  Database,
  DatabaseKind,
  DatabaseLogger,
  PgliteDatabase,
  PostgresDatabase,
  SparksDb,
  SparksSchema,
  SparksTx,
} from "./database.types";
export { newCustomerId, newSyncRunId, ulidLike } from "./id.util";
export { migrateDatabase, migrationsFolder } from "./migrate";
export * as schema from "./schema";
export * from "./schema";
