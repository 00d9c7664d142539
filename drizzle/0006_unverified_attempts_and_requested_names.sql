ALTER TABLE "client_certificates" ADD COLUMN "requested_device_name" varchar(255);--> statement-breakpoint
ALTER TABLE "client_certificates" ADD COLUMN "requested_agent_version" varchar(64);--> statement-breakpoint
ALTER TABLE "connection_results" ADD COLUMN "verified" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "connection_results" ADD COLUMN "unverified_reason" text;--> statement-breakpoint
ALTER TABLE "connection_results" ADD COLUMN "remote_address" varchar(64);--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "last_remote_address" varchar(64);--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "imported" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "unverified_attempts" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "last_unverified_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "connection_results_unverified_idx" ON "connection_results" USING btree ("device_id","id" DESC NULLS LAST) WHERE not "connection_results"."verified";--> statement-breakpoint
ALTER TABLE "connection_results" ADD CONSTRAINT "connection_results_unverified_check" CHECK ("connection_results"."verified" = ("connection_results"."unverified_reason" is null) and ("connection_results"."unverified_reason" is null or "connection_results"."unverified_reason" in ('NO_CLIENT_CERTIFICATE', 'UNKNOWN_KEY', 'UNAPPROVED_KEY')));--> statement-breakpoint
-- Devices from before this migration: one with no certificate request at all can only have come
-- from the inventory import (an enrollment always leaves its request).
UPDATE "devices" SET "imported" = true
WHERE NOT "is_core_server"
  AND NOT EXISTS (SELECT 1 FROM "client_certificates" c WHERE c."device_id" = "devices"."id");
