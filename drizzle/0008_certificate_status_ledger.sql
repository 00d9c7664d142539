-- Client certificates per status for the metrics (issue 13), kept rather than counted: each statement
-- that inserts, updates or deletes client_certificates appends its net change per status to the ledger
-- (statement triggers with transition tables: one row per status a statement moves, however many rows
-- it touches, and no lock two writers could wait for). The maintenance rounds fold the ledger into one
-- row per status; a reader sums what is there. The partial index serves "approved certificates that
-- expire within 30 days" as an index range.
CREATE TABLE "client_certificate_status_ledger" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "client_certificate_status_ledger_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"status" text NOT NULL,
	"delta" bigint NOT NULL,
	CONSTRAINT "client_certificate_status_ledger_status_check" CHECK ("client_certificate_status_ledger"."status" in ('PENDING', 'APPROVED', 'REJECTED', 'REVOKED'))
);
--> statement-breakpoint
CREATE INDEX "client_certificates_approved_not_after_idx" ON "client_certificates" USING btree ("not_after") WHERE "client_certificates"."status" = 'APPROVED';
--> statement-breakpoint
-- The search path is pinned (pg_temp last) and the ledger named in the schema of the table that fired,
-- as in 0005: a temporary table cannot stand in for it.
CREATE FUNCTION certfleet_count_client_certificates() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE format('INSERT INTO %I.client_certificate_status_ledger (status, delta)
      SELECT status, count(*) FROM certfleet_new_rows GROUP BY status', TG_TABLE_SCHEMA);
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('INSERT INTO %I.client_certificate_status_ledger (status, delta)
      SELECT status, -count(*) FROM certfleet_old_rows GROUP BY status', TG_TABLE_SCHEMA);
  ELSE
    EXECUTE format('INSERT INTO %I.client_certificate_status_ledger (status, delta)
      SELECT status, sum(d) FROM (
        SELECT status, 1 AS d FROM certfleet_new_rows
        UNION ALL
        SELECT status, -1 AS d FROM certfleet_old_rows
      ) moved GROUP BY status HAVING sum(d) <> 0', TG_TABLE_SCHEMA);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER client_certificates_count_inserts AFTER INSERT ON "client_certificates"
  REFERENCING NEW TABLE AS certfleet_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION certfleet_count_client_certificates();
--> statement-breakpoint
CREATE TRIGGER client_certificates_count_updates AFTER UPDATE ON "client_certificates"
  REFERENCING OLD TABLE AS certfleet_old_rows NEW TABLE AS certfleet_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION certfleet_count_client_certificates();
--> statement-breakpoint
CREATE TRIGGER client_certificates_count_deletes AFTER DELETE ON "client_certificates"
  REFERENCING OLD TABLE AS certfleet_old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION certfleet_count_client_certificates();
--> statement-breakpoint
-- Creating the triggers locked the table against writes until this migration commits, so the count
-- below and the triggers' rows together are exact.
INSERT INTO "client_certificate_status_ledger" ("status", "delta")
  SELECT "status", count(*) FROM "client_certificates" GROUP BY "status";
