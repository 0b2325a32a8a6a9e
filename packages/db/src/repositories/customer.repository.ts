import { eq, inArray, or, sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import {
  type CustomerRow,
  type CustomerTier,
  customers,
  type NewCustomerRow,
} from "../schema/customers.schema";

/** What a signup links: an Auth0 user to a Stripe customer and subscription. */
export interface SignupLink {
  id: string;
  auth0UserId: string;
  stripeCustomerId: string;
  stripeSubscriptionId: string;
  email: string | null;
  name: string | null;
}

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

  /**
   * The customer of an Auth0 user, inserted (tier free, no Stripe ids yet) if there is none.
   * Committed before any Stripe call, so the Sparks id is stable across retries of a signup and
   * can go into Stripe metadata and idempotency keys. Safe under concurrency: the unique
   * auth0_user_id makes the loser of a race read the winner's row.
   */
  async insertOrGetByAuth0UserId(input: {
    auth0UserId: string;
    email?: string | null;
    name?: string | null;
  }): Promise<CustomerRow> {
    const [inserted] = await this.db
      .insert(customers)
      .values({ auth0UserId: input.auth0UserId, email: input.email ?? null, name: input.name ?? null })
      .onConflictDoNothing({ target: customers.auth0UserId })
      .returning();
    if (inserted) return inserted;
    const existing = await this.findByAuth0UserId(input.auth0UserId);
    if (!existing) throw new Error(`customer of ${input.auth0UserId} vanished during signup`);
    return existing;
  }

  /**
   * Waits for a transaction-scoped advisory lock on `key` (released at commit or rollback), so
   * concurrent requests about one customer run one after the other, across processes.
   * Only meaningful inside `db.transaction(...)`.
   */
  async lockTransaction(key: string): Promise<void> {
    await this.db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
  }

  /**
   * Stores a signup's mapping: inserts the customer, or completes the row that already names
   * this Auth0 user (created by an operator, or by an earlier attempt). The tier is not
   * touched on an existing row; email and name only fill what is missing.
   */
  async upsertSignup(link: SignupLink): Promise<CustomerRow> {
    const [row] = await this.db
      .insert(customers)
      .values({ ...link, tier: "free" })
      .onConflictDoUpdate({
        target: customers.auth0UserId,
        set: {
          stripeCustomerId: link.stripeCustomerId,
          stripeSubscriptionId: link.stripeSubscriptionId,
          email: sql`coalesce(${customers.email}, excluded.email)`,
          name: sql`coalesce(${customers.name}, excluded.name)`,
          updatedAt: new Date(),
        },
      })
      .returning();
    if (!row) throw new Error("upsert into customers returned no row");
    return row;
  }

  /**
   * Sets the tier; `customQuota` undefined leaves the enterprise quota as it is, null clears it
   * (back to the tier's quota).
   */
  async updateTier(id: string, tier: CustomerTier, customQuota?: number | null): Promise<CustomerRow> {
    const [row] = await this.db
      .update(customers)
      .set(customQuota === undefined ? { tier } : { tier, customQuota })
      .where(eq(customers.id, id))
      .returning();
    if (!row) throw new Error(`customer ${id} vanished while changing its tier`);
    return row;
  }

  /** Records a negotiated rate (USD per Spark, a decimal string); null returns to SPARK_RATE. */
  async setNegotiatedRate(id: string, usdPerSpark: string | null): Promise<CustomerRow> {
    const [row] = await this.db
      .update(customers)
      .set({ negotiatedRate: usdPerSpark })
      .where(eq(customers.id, id))
      .returning();
    if (!row) throw new Error(`customer ${id} vanished while setting its rate`);
    return row;
  }
}
