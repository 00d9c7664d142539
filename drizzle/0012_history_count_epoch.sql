-- Exact history counts (issue 14, the per-device cap at its steady state): a device's history_count
-- is exact when known, so that the cap deletes just a device's oldest `count + added - keep` results
-- instead of reading its newest `keep` in every partition. Retention deletes results without
-- touching device rows (whole partitions); it bumps core_settings.history_epoch instead, in the same
-- transaction, and a count made in an older epoch (devices.history_count_epoch) counts as unknown: the
-- next cap on the device recounts it. Columns with a constant default rewrite nothing; every count
-- already there is made in epoch 0.
ALTER TABLE "core_settings" ADD COLUMN "history_epoch" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "history_count_epoch" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Counts from drizzle/0011 may be high (retention left them so): epoch 1 makes all of them (epoch 0)
-- unknown at once, with no pass over the devices. A device's first cap from now on recounts it.
UPDATE "core_settings" SET "history_epoch" = 1;--> statement-breakpoint
-- As drizzle/0009 made it, and it bumps the history epoch when it deleted anything.
CREATE OR REPLACE FUNCTION certfleet_drop_connection_history(p_before timestamptz)
RETURNS TABLE (dropped integer, deleted bigint) LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET "TimeZone" = 'UTC'
AS $$
DECLARE
  p record;
BEGIN
  dropped := 0;
  FOR p IN SELECT partition FROM certfleet_connection_history_partitions() WHERE upper_bound <= p_before ORDER BY lower_bound LOOP
    EXECUTE format('DROP TABLE %s', p.partition);
    dropped := dropped + 1;
  END LOOP;
  DELETE FROM connection_results_default WHERE at < p_before;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  -- Every device's history_count made before this commits is unknown from then on.
  IF dropped > 0 OR deleted > 0 THEN
    UPDATE core_settings SET history_epoch = history_epoch + 1;
  END IF;
  RETURN NEXT;
END
$$;--> statement-breakpoint
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION certfleet_drop_connection_history(timestamptz) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END
$$;--> statement-breakpoint
REVOKE ALL ON FUNCTION certfleet_drop_connection_history(timestamptz) FROM PUBLIC;
