CREATE TABLE "quota_caps" (
	"customer_id" text PRIMARY KEY NOT NULL,
	"unit" text NOT NULL,
	"amount" numeric NOT NULL,
	"soft" boolean DEFAULT false NOT NULL,
	"set_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quota_caps_unit_ck" CHECK ("quota_caps"."unit" in ('usd', 'sparks')),
	CONSTRAINT "quota_caps_amount_ck" CHECK ("quota_caps"."amount" > 0)
);
--> statement-breakpoint
ALTER TABLE "quota_caps" ADD CONSTRAINT "quota_caps_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;