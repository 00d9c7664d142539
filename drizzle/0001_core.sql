CREATE TABLE "audit_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" varchar(64) NOT NULL,
	"target_id" text,
	"details" text
);
--> statement-breakpoint
CREATE TABLE "auth_status_counters" (
	"status" text PRIMARY KEY NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "auth_status_counters_status_check" CHECK ("auth_status_counters"."status" in ('AUTHENTICATION_SUCCEEDED', 'NO_AUTHENTICATION_INFO', 'AUTHENTICATION_FAILED', 'CLIENT_AGENTS_MUST_UPGRADE')),
	CONSTRAINT "auth_status_counters_count_check" CHECK ("auth_status_counters"."count" >= 0)
);
--> statement-breakpoint
CREATE TABLE "certificate_authority" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"subject" text NOT NULL,
	"certificate_pem" text NOT NULL,
	"sealed_private_key" text NOT NULL,
	"fingerprint" varchar(64) NOT NULL,
	"serial_number" varchar(64) NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "certificate_authority_single_row" CHECK ("certificate_authority"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "client_certificates" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "client_certificates_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"device_id" bigint NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"subject" text NOT NULL,
	"key_algorithm" varchar(32) NOT NULL,
	"public_key_fingerprint" varchar(64) NOT NULL,
	"csr_pem" text NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by" text,
	"decision_note" text,
	"serial_number" varchar(64),
	"not_before" timestamp with time zone,
	"not_after" timestamp with time zone,
	"certificate_pem" text,
	"revoked_at" timestamp with time zone,
	"revocation_reason" text,
	CONSTRAINT "client_certificates_status_check" CHECK ("client_certificates"."status" in ('PENDING', 'APPROVED', 'REJECTED', 'REVOKED'))
);
--> statement-breakpoint
CREATE TABLE "connection_results" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "connection_results_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"device_id" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"result" text NOT NULL,
	"failure_reason" text,
	"agent_version" varchar(64),
	"certificate_serial_number" varchar(64),
	"certificate_not_after" timestamp with time zone,
	CONSTRAINT "connection_results_source_check" CHECK ("connection_results"."source" in ('SECURE_CONNECTION', 'SECURITY_SCANNER')),
	CONSTRAINT "connection_results_result_check" CHECK ("connection_results"."result" in ('AUTHENTICATION_SUCCEEDED', 'AUTHENTICATION_FAILED', 'CLIENT_AGENTS_MUST_UPGRADE'))
);
--> statement-breakpoint
CREATE TABLE "core_settings" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"client_certificate_security_enabled" boolean DEFAULT false NOT NULL,
	"enabled_at" timestamp with time zone,
	"enabled_by" text,
	"core_device_id" bigint,
	CONSTRAINT "core_settings_single_row" CHECK ("core_settings"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "devices_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" varchar(255) NOT NULL,
	"agent_id" varchar(128),
	"agent_version" varchar(64),
	"is_core_server" boolean DEFAULT false NOT NULL,
	"auth_status" text DEFAULT 'NO_AUTHENTICATION_INFO' NOT NULL,
	"failure_reason" text,
	"last_connection_id" bigint,
	"last_attempt_at" timestamp with time zone,
	"last_source" text,
	"last_result" text,
	"last_failure_reason" text,
	"last_agent_version" varchar(64),
	"last_certificate_serial" varchar(64),
	"last_certificate_not_after" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "devices_auth_status_check" CHECK ("devices"."auth_status" in ('AUTHENTICATION_SUCCEEDED', 'NO_AUTHENTICATION_INFO', 'AUTHENTICATION_FAILED', 'CLIENT_AGENTS_MUST_UPGRADE'))
);
--> statement-breakpoint
CREATE TABLE "saved_queries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "saved_queries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"owner" text NOT NULL,
	"name" varchar(255) NOT NULL,
	"folder" text[] NOT NULL,
	"kind" varchar(16) NOT NULL,
	"auth_status" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "client_certificates" ADD CONSTRAINT "client_certificates_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "connection_results" ADD CONSTRAINT "connection_results_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "core_settings" ADD CONSTRAINT "core_settings_core_device_id_devices_id_fk" FOREIGN KEY ("core_device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "client_certificates_status_id_idx" ON "client_certificates" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "client_certificates_device_id_idx" ON "client_certificates" USING btree ("device_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "client_certificates_serial_key" ON "client_certificates" USING btree ("serial_number");--> statement-breakpoint
CREATE UNIQUE INDEX "client_certificates_device_key_key" ON "client_certificates" USING btree ("device_id","public_key_fingerprint");--> statement-breakpoint
CREATE INDEX "connection_results_device_id_idx" ON "connection_results" USING btree ("device_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "devices_agent_id_key" ON "devices" USING btree ("agent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "devices_one_core_server" ON "devices" USING btree ("is_core_server") WHERE "devices"."is_core_server";--> statement-breakpoint
CREATE UNIQUE INDEX "devices_agentless_name_key" ON "devices" USING btree (lower("name")) WHERE "devices"."agent_id" is null and not "devices"."is_core_server";--> statement-breakpoint
CREATE INDEX "devices_auth_status_id_idx" ON "devices" USING btree ("auth_status","id");--> statement-breakpoint
CREATE INDEX "devices_name_trgm_idx" ON "devices" USING gin (lower("name") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "devices_agent_id_trgm_idx" ON "devices" USING gin (lower("agent_id") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "saved_queries_owner_idx" ON "saved_queries" USING btree ("owner","id");--> statement-breakpoint
CREATE UNIQUE INDEX "saved_queries_chart_key" ON "saved_queries" USING btree ("owner","auth_status") WHERE "saved_queries"."kind" = 'CHART';