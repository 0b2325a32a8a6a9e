ALTER TABLE "tier_history" ADD COLUMN "rate" numeric;--> statement-breakpoint
-- Until now the report priced every enterprise segment at the customer's current negotiated
-- rate; existing history keeps exactly that, new rate changes open segments of their own.
UPDATE "tier_history" h SET "rate" = c."negotiated_rate"
  FROM "customers" c
 WHERE h."customer_id" = c."id" AND h."tier" = 'enterprise' AND c."negotiated_rate" IS NOT NULL;
