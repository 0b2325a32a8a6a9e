CREATE TABLE "customer_month_closes" (
	"customer_id" text NOT NULL,
	"month" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"closed_at" timestamp with time zone,
	"invoice_id" text,
	"invoice_status" text,
	"invoice_total_cents" bigint,
	"ledger_net_cents" bigint,
	"discount_cents" bigint,
	"hold_reason" text,
	"at_risk_cents" bigint,
	"released_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_month_closes_customer_id_month_pk" PRIMARY KEY("customer_id","month"),
	CONSTRAINT "customer_month_closes_status_ck" CHECK ("customer_month_closes"."status" in ('open', 'closed')),
	CONSTRAINT "customer_month_closes_month_ck" CHECK ("customer_month_closes"."month" ~ '^[0-9]{4}-(0[1-9]|1[0-2])$')
);
--> statement-breakpoint
ALTER TABLE "customer_month_closes" ADD CONSTRAINT "customer_month_closes_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customer_month_closes_month_idx" ON "customer_month_closes" USING btree ("month","status");--> statement-breakpoint
CREATE INDEX "customer_month_closes_invoice_idx" ON "customer_month_closes" USING btree ("invoice_id");--> statement-breakpoint
-- Late usage per customer (issue 14): pending usage of a month that is closed for its customer
-- (or closed for everyone, month_closes) is re-filed into that customer's first month that is
-- not closed. Otherwise as 0003: `late_from` keeps the original trace time and the label is
-- restored on every write; a row put back into its own month loses the marker.
CREATE OR REPLACE FUNCTION sparks_bill_late_usage() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  billing text := NEW.month;
BEGIN
  IF NEW.late_from IS NOT NULL
     AND NEW.month = to_char(NEW.late_from AT TIME ZONE 'UTC', 'YYYY-MM') THEN
    NEW.late_from := NULL;
  END IF;
  IF NEW.status = 'pending' AND NEW.meter_event_id IS NULL THEN
    WHILE EXISTS (SELECT 1 FROM month_closes WHERE month = billing AND status = 'closed')
       OR (NEW.customer_id IS NOT NULL AND EXISTS (
             SELECT 1 FROM customer_month_closes
             WHERE customer_id = NEW.customer_id AND month = billing AND status = 'closed')) LOOP
      billing := to_char(to_date(billing || '-01', 'YYYY-MM-DD') + interval '1 month', 'YYYY-MM');
    END LOOP;
    IF billing <> NEW.month THEN
      NEW.late_from := coalesce(NEW.late_from, NEW.occurred_at);
      NEW.month := billing;
      NEW.occurred_at := (billing || '-01 00:00:00+00')::timestamptz;
    END IF;
  END IF;
  IF NEW.late_from IS NOT NULL
     AND NEW.status NOT IN ('failed', 'quarantined', 'discrepancy', 'unbillable') THEN
    NEW.reason := format(
      'late usage from %s billed in %s (occurred %s)',
      to_char(NEW.late_from AT TIME ZONE 'UTC', 'YYYY-MM'),
      NEW.month,
      to_char(NEW.late_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    );
  END IF;
  RETURN NEW;
END
$$;
