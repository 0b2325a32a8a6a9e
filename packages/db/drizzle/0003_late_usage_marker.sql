ALTER TABLE "usage_items" ADD COLUMN "late_from" timestamp with time zone;--> statement-breakpoint
-- Replaces 0002's function: the original trace time is kept in `late_from` (the reason alone
-- did not survive sending, which clears `reason`), and the label is restored on every write
-- of a late line. A row put back into its own month (e.g. now unbillable) loses the marker.
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
    WHILE EXISTS (SELECT 1 FROM month_closes WHERE month = billing AND status = 'closed') LOOP
      billing := to_char(to_date(billing || '-01', 'YYYY-MM-DD') + interval '1 month', 'YYYY-MM');
    END LOOP;
    IF billing <> NEW.month THEN
      NEW.late_from := NEW.occurred_at;
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
