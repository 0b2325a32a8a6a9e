CREATE TABLE "usage_corrections" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "usage_corrections_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"key" text NOT NULL,
	"customer_id" text NOT NULL,
	"usage_category" text NOT NULL,
	"month" text NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"sparks" bigint NOT NULL,
	"cents" bigint DEFAULT 0 NOT NULL,
	"tier" text,
	"trace_ids" text[] NOT NULL,
	"item_ids" bigint[] NOT NULL,
	"cancelled_meter_event_id" bigint,
	"resend_value" bigint,
	"replacement_identifier" text,
	"stripe_invoice_id" text,
	"stripe_object_id" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"applied_at" timestamp with time zone,
	CONSTRAINT "usage_corrections_key_uq" UNIQUE("key"),
	CONSTRAINT "usage_corrections_kind_ck" CHECK ("usage_corrections"."kind" in ('cancel', 'invoice_credit', 'credit_note')),
	CONSTRAINT "usage_corrections_status_ck" CHECK ("usage_corrections"."status" in ('pending', 'done', 'failed')),
	CONSTRAINT "usage_corrections_month_ck" CHECK ("usage_corrections"."month" ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
	CONSTRAINT "usage_corrections_sparks_ck" CHECK ("usage_corrections"."sparks" > 0),
	CONSTRAINT "usage_corrections_cents_ck" CHECK ("usage_corrections"."cents" >= 0)
);
--> statement-breakpoint
ALTER TABLE "meter_events" DROP CONSTRAINT "meter_events_status_ck";--> statement-breakpoint
ALTER TABLE "usage_items" ADD COLUMN "corrected_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "usage_corrections" ADD CONSTRAINT "usage_corrections_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_corrections" ADD CONSTRAINT "usage_corrections_cancelled_meter_event_id_meter_events_id_fk" FOREIGN KEY ("cancelled_meter_event_id") REFERENCES "public"."meter_events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "usage_corrections_group_idx" ON "usage_corrections" USING btree ("customer_id","usage_category","month");--> statement-breakpoint
ALTER TABLE "meter_events" ADD CONSTRAINT "meter_events_status_ck" CHECK ("meter_events"."status" in ('pending', 'sent', 'failed', 'cancelled'));