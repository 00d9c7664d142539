-- The trigger of 0002 read "core_settings" through the session's search path, where pg_temp comes
-- first: any role that may create temporary tables (PUBLIC may, by default) could shadow the table
-- with an empty pg_temp.core_settings and DELETE the switch's row. The function now pins its search
-- path (pg_temp last) and reads the table that fired it by its schema, and a DELETE is judged by the
-- row it removes as well.
CREATE OR REPLACE FUNCTION certfleet_refuse_security_disable() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  switch_on boolean;
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
  IF TG_OP = 'DELETE' AND OLD.client_certificate_security_enabled THEN
    RAISE EXCEPTION 'client certificate-based security is enabled and cannot be disabled'
      USING ERRCODE = 'check_violation';
  END IF;
  -- DELETE (per row) and TRUNCATE (per statement) would drop the switch along with its row.
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE client_certificate_security_enabled)', TG_TABLE_SCHEMA, TG_TABLE_NAME)
    INTO switch_on;
  IF switch_on THEN
    RAISE EXCEPTION 'client certificate-based security is enabled and cannot be disabled'
      USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NULL;
END;
$$;
