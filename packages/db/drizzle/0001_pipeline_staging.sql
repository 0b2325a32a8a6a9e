CREATE TABLE "observation_usage" (
	"observation_id" text PRIMARY KEY NOT NULL,
	"trace_id" text NOT NULL,
	"type" text NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"user_id" text,
	"is_root" boolean DEFAULT false NOT NULL,
	"usage_details" jsonb,
	"metadata" jsonb,
	"cost_usd" text,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_run_traces" (
	"sync_run_id" text NOT NULL,
	"trace_id" text NOT NULL,
	CONSTRAINT "sync_run_traces_pk" PRIMARY KEY("sync_run_id","trace_id")
);
--> statement-breakpoint
ALTER TABLE "usage_items" DROP CONSTRAINT "usage_items_trace_category_uq";--> statement-breakpoint
ALTER TABLE "sync_runs" DROP CONSTRAINT "sync_runs_trigger_ck";--> statement-breakpoint
ALTER TABLE "usage_items" DROP CONSTRAINT "usage_items_status_ck";--> statement-breakpoint
ALTER TABLE "usage_items" DROP CONSTRAINT "usage_items_exact_sparks_ck";--> statement-breakpoint
ALTER TABLE "sync_run_traces" ADD CONSTRAINT "sync_run_traces_sync_run_id_sync_runs_id_fk" FOREIGN KEY ("sync_run_id") REFERENCES "public"."sync_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "observation_usage_trace_idx" ON "observation_usage" USING btree ("trace_id");--> statement-breakpoint
ALTER TABLE "usage_items" ADD CONSTRAINT "usage_items_trace_category_rev_uq" UNIQUE("trace_id","usage_category","quantity_revision");--> statement-breakpoint
ALTER TABLE "sync_runs" ADD CONSTRAINT "sync_runs_trigger_ck" CHECK ("sync_runs"."trigger" in ('schedule', 'manual', 'backfill', 'month-close'));--> statement-breakpoint
ALTER TABLE "usage_items" ADD CONSTRAINT "usage_items_status_ck" CHECK ("usage_items"."status" in ('pending', 'sending', 'sent', 'failed', 'quarantined', 'unbillable', 'discrepancy'));--> statement-breakpoint
ALTER TABLE "usage_items" ADD CONSTRAINT "usage_items_exact_sparks_ck" CHECK ("usage_items"."exact_sparks" >= 0 or "usage_items"."status" = 'discrepancy');