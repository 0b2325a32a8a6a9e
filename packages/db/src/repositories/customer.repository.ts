import { eq, inArray, or } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { type CustomerRow, customers, type NewCustomerRow } from "../schema/customers.schema";

/**
 * Reads and writes the `customers` table. SPEC §5: wherever a customer is named, the name may
 * be the Sparks customer id or the Auth0 user id, so lookups accept either.
 */
export class CustomerRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  async findById(id: string): Promise<CustomerRow | null> {
    const rows = await this.db.select().from(customers).where(eq(customers.id, id)).limit(1);
    return rows[0] ?? null;
  }

  async findByAuth0UserId(auth0UserId: string): Promise<CustomerRow | null> {
    const rows = await this.db
      .select()
      .from(customers)
      .where(eq(customers.auth0UserId, auth0UserId))
      .limit(1);
    return rows[0] ?? null;
  }

  /** Resolves a SPEC §5 customer reference: a Sparks customer id or an Auth0 user id. */
  async findByReference(reference: string): Promise<CustomerRow | null> {
    const rows = await this.db
      .select()
      .from(customers)
      .where(or(eq(customers.id, reference), eq(customers.auth0UserId, reference)))
      .limit(2);
    // Ids are prefixed `cus_sparks_` and Auth0 ids look like `auth0|...`, so two matches
    // would need a deliberately confusing Auth0 id; the Sparks id wins then.
    return rows.find((r) => r.id === reference) ?? rows[0] ?? null;
  }

  /** Resolves many references at once (Sparks ids or Auth0 user ids); unknown ones are absent. */
  async findByReferences(references: readonly string[]): Promise<Map<string, CustomerRow>> {
    const found = new Map<string, CustomerRow>();
    if (references.length === 0) return found;
    const refs = [...new Set(references)];
    const rows = await this.db
      .select()
      .from(customers)
      .where(or(inArray(customers.id, refs), inArray(customers.auth0UserId, refs)));
    // Auth0 matches first, so a Sparks id match overwrites it (the Sparks id wins, as above).
    for (const row of rows) if (row.auth0UserId !== null) found.set(row.auth0UserId, row);
    for (const row of rows) found.set(row.id, row);
    for (const key of [...found.keys()]) if (!refs.includes(key)) found.delete(key);
    return found;
  }

  async insert(row: NewCustomerRow): Promise<CustomerRow> {
    const [created] = await this.db.insert(customers).values(row).returning();
    if (!created) throw new Error("insert into customers returned no row");
    return created;
  }
}
