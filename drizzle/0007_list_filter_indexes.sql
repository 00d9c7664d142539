-- List filters of the console (issue 12): ClientAccessRequestFilter.search on the requested name (the
-- device's name and agent id use the devices' trigram indexes of 0001), and DeviceFilter.failureReasons
-- (a partial index: only failed devices carry a reason, and it is read in id order for keyset pages).
CREATE INDEX "client_certificates_requested_name_trgm_idx" ON "client_certificates" USING gin (lower("requested_device_name") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "devices_failed_reason_id_idx" ON "devices" USING btree ("failure_reason","id") WHERE "devices"."auth_status" = 'AUTHENTICATION_FAILED';
