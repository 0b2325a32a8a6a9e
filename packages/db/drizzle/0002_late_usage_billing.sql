-- Late usage (README "Month end, reconciliation and retention"): usage of a month that is
-- already `closed` in month_closes is billed in the first month after it that is not closed,
-- as a labelled late line. Enforced here, on every write of an unsent pending item, so no
-- path (sync, correction, operator retry) can file pending usage under a closed month, and
-- the month-close transaction (which locks usage_items in SHARE mode) cannot race a writer.
-- The meter event timestamp follows `occurred_at`, so it moves to the billing month's start;
-- the original month and time stay in `reason`. Usage past Stripe's 35-day limit is marked
-- `unbillable` by the pipeline before it gets here and is left alone.
CREATE OR REPLACE FUNCTION sparks_bill_late_usage() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  billing text := NEW.month;
BEGIN
  IF NEW.status <> 'pending' OR NEW.meter_event_id IS NOT NULL THEN
    RETURN NEW;
  END IF;
  WHILE EXISTS (SELECT 1 FROM month_closes WHERE month = billing AND status = 'closed') LOOP
    billing := to_char(to_date(billing || '-01', 'YYYY-MM-DD') + interval '1 month', 'YYYY-MM');
  END LOOP;
  IF billing <> NEW.month THEN
    NEW.reason := format(
      'late usage from %s billed in %s (occurred %s)',
      NEW.month,
      billing,
      to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    );
    NEW.month := billing;
    NEW.occurred_at := (billing || '-01 00:00:00+00')::timestamptz;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER usage_items_bill_late_usage
BEFORE INSERT OR UPDATE ON usage_items
FOR EACH ROW EXECUTE FUNCTION sparks_bill_late_usage();
