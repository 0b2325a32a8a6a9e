CREATE TABLE "alerts_sent" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alerts_sent_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"customer_id" text,
	"dedupe_key" text NOT NULL,
	"channel" text NOT NULL,
	"payload" jsonb,
	"sent_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alerts_sent_dedupe_key_uq" UNIQUE("dedupe_key"),
	CONSTRAINT "alerts_sent_channel_ck" CHECK ("alerts_sent"."channel" in ('slack', 'email', 'log'))
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"id" text PRIMARY KEY NOT NULL,
	"auth0_user_id" text,
	"stripe_customer_id" text,
	"stripe_subscription_id" text,
	"tier" text DEFAULT 'free' NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"pause_reason" text,
	"custom_quota" integer,
	"negotiated_rate" numeric,
	"email" text,
	"name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customers_auth0_user_id_uq" UNIQUE("auth0_user_id"),
	CONSTRAINT "customers_stripe_customer_id_uq" UNIQUE("stripe_customer_id"),
	CONSTRAINT "customers_tier_ck" CHECK ("customers"."tier" in ('free', 'standard', 'enterprise')),
	CONSTRAINT "customers_status_ck" CHECK ("customers"."status" in ('active', 'paused'))
);
--> statement-breakpoint
CREATE TABLE "tier_history" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "tier_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"customer_id" text NOT NULL,
	"tier" text NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"effective_to" timestamp with time zone,
	"source" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tier_history_tier_ck" CHECK ("tier_history"."tier" in ('free', 'standard', 'enterprise')),
	CONSTRAINT "tier_history_source_ck" CHECK ("tier_history"."source" in ('signup', 'api', 'webhook'))
);
--> statement-breakpoint
CREATE TABLE "meter_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "meter_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"identifier" text NOT NULL,
	"customer_id" text NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"usage_category" text NOT NULL,
	"event_name" text NOT NULL,
	"month" text NOT NULL,
	"value" bigint NOT NULL,
	"event_timestamp" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"aggregated" boolean DEFAULT false NOT NULL,
	"item_count" integer DEFAULT 1 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"stripe_response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "meter_events_identifier_uq" UNIQUE("identifier"),
	CONSTRAINT "meter_events_status_ck" CHECK ("meter_events"."status" in ('pending', 'sent', 'failed')),
	CONSTRAINT "meter_events_month_ck" CHECK ("meter_events"."month" ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
	CONSTRAINT "meter_events_value_ck" CHECK ("meter_events"."value" >= 0)
);
--> statement-breakpoint
CREATE TABLE "month_closes" (
	"month" text PRIMARY KEY NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"closed_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "month_closes_status_ck" CHECK ("month_closes"."status" in ('open', 'closing', 'closed')),
	CONSTRAINT "month_closes_month_ck" CHECK ("month_closes"."month" ~ '^[0-9]{4}-(0[1-9]|1[0-2])$')
);
--> statement-breakpoint
CREATE TABLE "stripe_audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "stripe_audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"operation" text NOT NULL,
	"request" jsonb,
	"response" jsonb,
	"status_code" integer,
	"identifier" text,
	"usage_item_ids" bigint[],
	"meter_event_id" bigint,
	"duration_ms" integer,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "sync_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"window_from" timestamp with time zone,
	"window_to" timestamp with time zone,
	"customer_id" text,
	"status" text DEFAULT 'queued' NOT NULL,
	"trigger" text NOT NULL,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"processed_trace_count" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "sync_runs_status_ck" CHECK ("sync_runs"."status" in ('queued', 'running', 'completed', 'failed')),
	CONSTRAINT "sync_runs_trigger_ck" CHECK ("sync_runs"."trigger" in ('schedule', 'manual', 'backfill'))
);
--> statement-breakpoint
CREATE TABLE "sync_windows" (
	"name" text PRIMARY KEY NOT NULL,
	"last_closed_end" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_items" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "usage_items_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"trace_id" text NOT NULL,
	"usage_category" text NOT NULL,
	"customer_id" text,
	"customer_ref" text,
	"month" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"quantity" numeric,
	"unit" text,
	"raw_value" jsonb,
	"exact_sparks" numeric(38, 9) DEFAULT '0' NOT NULL,
	"sent_sparks" bigint DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"stripe_identifier" text,
	"meter_event_id" bigint,
	"cost_center" text DEFAULT 'default' NOT NULL,
	"tier" text,
	"tier_hint" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"sync_run_id" text,
	"quantity_revision" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "usage_items_trace_category_uq" UNIQUE("trace_id","usage_category"),
	CONSTRAINT "usage_items_status_ck" CHECK ("usage_items"."status" in ('pending', 'sending', 'sent', 'failed', 'quarantined', 'unbillable')),
	CONSTRAINT "usage_items_month_ck" CHECK ("usage_items"."month" ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
	CONSTRAINT "usage_items_exact_sparks_ck" CHECK ("usage_items"."exact_sparks" >= 0),
	CONSTRAINT "usage_items_sent_sparks_ck" CHECK ("usage_items"."sent_sparks" >= 0)
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"stripe_event_id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"created" timestamp with time zone NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'received' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	CONSTRAINT "webhook_events_status_ck" CHECK ("webhook_events"."status" in ('received', 'processed', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "alerts_sent" ADD CONSTRAINT "alerts_sent_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tier_history" ADD CONSTRAINT "tier_history_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meter_events" ADD CONSTRAINT "meter_events_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_items" ADD CONSTRAINT "usage_items_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_items" ADD CONSTRAINT "usage_items_meter_event_id_meter_events_id_fk" FOREIGN KEY ("meter_event_id") REFERENCES "public"."meter_events"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_items" ADD CONSTRAINT "usage_items_sync_run_id_sync_runs_id_fk" FOREIGN KEY ("sync_run_id") REFERENCES "public"."sync_runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alerts_sent_customer_idx" ON "alerts_sent" USING btree ("customer_id","sent_at");--> statement-breakpoint
CREATE INDEX "tier_history_customer_from_idx" ON "tier_history" USING btree ("customer_id","effective_from");--> statement-breakpoint
CREATE INDEX "meter_events_status_customer_idx" ON "meter_events" USING btree ("status","customer_id","usage_category");--> statement-breakpoint
CREATE INDEX "meter_events_month_customer_idx" ON "meter_events" USING btree ("month","customer_id");--> statement-breakpoint
CREATE INDEX "stripe_audit_log_at_idx" ON "stripe_audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "stripe_audit_log_identifier_idx" ON "stripe_audit_log" USING btree ("identifier");--> statement-breakpoint
CREATE INDEX "sync_runs_status_created_idx" ON "sync_runs" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "usage_items_status_customer_category_month_idx" ON "usage_items" USING btree ("status","customer_id","usage_category","month");--> statement-breakpoint
CREATE INDEX "usage_items_month_customer_idx" ON "usage_items" USING btree ("month","customer_id");--> statement-breakpoint
CREATE INDEX "usage_items_sync_run_idx" ON "usage_items" USING btree ("sync_run_id");--> statement-breakpoint
CREATE INDEX "usage_items_meter_event_idx" ON "usage_items" USING btree ("meter_event_id");--> statement-breakpoint
CREATE INDEX "webhook_events_status_idx" ON "webhook_events" USING btree ("status","received_at");