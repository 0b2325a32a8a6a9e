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
export { executeRows } from "./execute-rows";
export { newCustomerId, newSyncRunId, ulidLike } from "./id.util";
export { migrateDatabase, migrationsFolder } from "./migrate";
export { CustomerRepository } from "./repositories/customer.repository";
export * as schema from "./schema";
export * from "./schema";
export { UnexpectedQueryResultError } from "./unexpected-query-result.error";
