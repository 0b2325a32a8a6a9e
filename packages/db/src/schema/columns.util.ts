import { timestamp } from "drizzle-orm/pg-core";

/** Every timestamp is `timestamptz`, read as a JS Date: the ledger reasons in UTC instants. */
export function timestamptz(name: string) {
  return timestamp(name, { withTimezone: true, mode: "date" });
}

/** `created_at` / `updated_at` pair; `updated_at` is also bumped by drizzle on every update. */
export function auditTimestamps() {
  return {
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    updatedAt: timestamptz("updated_at")
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  };
}
