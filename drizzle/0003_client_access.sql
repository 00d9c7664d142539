CREATE TABLE "revocation_list" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"crl_number" bigint NOT NULL,
	"crl_pem" text NOT NULL,
	"this_update" timestamp with time zone NOT NULL,
	"next_update" timestamp with time zone NOT NULL,
	CONSTRAINT "revocation_list_single_row" CHECK ("revocation_list"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "secure_data" (
	"name" varchar(128) PRIMARY KEY NOT NULL,
	"sealed_value" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "client_certificates" ADD COLUMN "requested_from" varchar(64);--> statement-breakpoint
CREATE INDEX "devices_succeeded_cert_expiry_idx" ON "devices" USING btree ("last_certificate_not_after") WHERE "devices"."auth_status" = 'AUTHENTICATION_SUCCEEDED';