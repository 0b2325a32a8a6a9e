-- Staged JSON values as JSON text: staging only hands them back to the pipeline, and parsing
-- them into jsonb on every page write was the largest share of staging cost (issue 8).
ALTER TABLE "observation_usage" ALTER COLUMN "usage_details" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "observation_usage" ALTER COLUMN "metadata" SET DATA TYPE text;