-- The singleton rows every later statement relies on.
INSERT INTO "core_settings" ("id") VALUES (1) ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "auth_status_counters" ("status", "count") VALUES
  ('AUTHENTICATION_SUCCEEDED', 0),
  ('NO_AUTHENTICATION_INFO', 0),
  ('AUTHENTICATION_FAILED', 0),
  ('CLIENT_AGENTS_MUST_UPGRADE', 0)
ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- Enabling client certificate-based security is irreversible. The database itself refuses any
-- change that would undo it or rewrite who enabled it and when, so no code path, script or race can.
CREATE OR REPLACE FUNCTION certfleet_refuse_security_disable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF OLD.client_certificate_security_enabled AND (
         NEW.client_certificate_security_enabled IS DISTINCT FROM TRUE
      OR NEW.enabled_at IS DISTINCT FROM OLD.enabled_at
      OR NEW.enabled_by IS DISTINCT FROM OLD.enabled_by) THEN
      RAISE EXCEPTION 'client certificate-based security is enabled and cannot be disabled'
        USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  -- DELETE (per row) and TRUNCATE (per statement) would drop the switch along with its row.
  IF EXISTS (SELECT 1 FROM core_settings WHERE client_certificate_security_enabled) THEN
    RAISE EXCEPTION 'client certificate-based security is enabled and cannot be disabled'
      USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER core_settings_security_is_irreversible
  BEFORE UPDATE OR DELETE ON "core_settings"
  FOR EACH ROW EXECUTE FUNCTION certfleet_refuse_security_disable();
--> statement-breakpoint
CREATE TRIGGER core_settings_security_is_irreversible_truncate
  BEFORE TRUNCATE ON "core_settings"
  FOR EACH STATEMENT EXECUTE FUNCTION certfleet_refuse_security_disable();
