-- Connection history partitioned by time (issue 14): RANGE partitions on "at", each a whole number of
-- UTC days (a tenth of the retention: 3 days at the default 30), plus a DEFAULT partition so that an insert never fails
-- for lack of a partition (a clock far off, maintenance that has not run for days). Retention drops
-- whole partitions (O(partitions), not O(rows)); the maintenance rounds create a few partitions ahead.
-- The primary key must hold the partition key: (id, at). ids still come from one identity sequence,
-- so they stay unique, and every query and page (keyset on id) reads as before.
--
-- The server's role owns nothing (README, Security), and creating or dropping a partition needs the
-- owner: the two functions below are SECURITY DEFINER, owned by the migrating role, with a pinned
-- search path (pg_temp last, as in 0005), and do nothing but create or drop partitions of this table.
ALTER TABLE "connection_results" RENAME TO "connection_results_unpartitioned";--> statement-breakpoint
ALTER INDEX "connection_results_pkey" RENAME TO "connection_results_unpartitioned_pkey";--> statement-breakpoint
ALTER INDEX "connection_results_device_id_idx" RENAME TO "connection_results_unpartitioned_device_id_idx";--> statement-breakpoint
ALTER INDEX "connection_results_unverified_idx" RENAME TO "connection_results_unpartitioned_unverified_idx";--> statement-breakpoint
ALTER SEQUENCE "connection_results_id_seq" RENAME TO "connection_results_unpartitioned_id_seq";--> statement-breakpoint
ALTER TABLE "connection_results_unpartitioned" RENAME CONSTRAINT "connection_results_device_id_devices_id_fk" TO "connection_results_unpartitioned_device_id_fk";--> statement-breakpoint
CREATE TABLE "connection_results" (
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "connection_results_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"device_id" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"result" text NOT NULL,
	"failure_reason" text,
	"agent_version" varchar(64),
	"certificate_serial_number" varchar(64),
	"certificate_not_after" timestamp with time zone,
	"verified" boolean DEFAULT true NOT NULL,
	"unverified_reason" text,
	"remote_address" varchar(64),
	CONSTRAINT "connection_results_pkey" PRIMARY KEY("id","at"),
	CONSTRAINT "connection_results_unverified_check" CHECK ("connection_results"."verified" = ("connection_results"."unverified_reason" is null) and ("connection_results"."unverified_reason" is null or "connection_results"."unverified_reason" in ('NO_CLIENT_CERTIFICATE', 'UNKNOWN_KEY', 'UNAPPROVED_KEY'))),
	CONSTRAINT "connection_results_source_check" CHECK ("connection_results"."source" in ('SECURE_CONNECTION', 'SECURITY_SCANNER')),
	CONSTRAINT "connection_results_result_check" CHECK ("connection_results"."result" in ('AUTHENTICATION_SUCCEEDED', 'AUTHENTICATION_FAILED', 'CLIENT_AGENTS_MUST_UPGRADE'))
) PARTITION BY RANGE ("at");
--> statement-breakpoint
ALTER TABLE "connection_results" ADD CONSTRAINT "connection_results_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "connection_results_device_id_idx" ON "connection_results" USING btree ("device_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "connection_results_unverified_idx" ON "connection_results" USING btree ("device_id","id" DESC NULLS LAST) WHERE not "connection_results"."verified";--> statement-breakpoint
CREATE TABLE "connection_results_default" PARTITION OF "connection_results" DEFAULT;--> statement-breakpoint
-- certfleet_connection_history_partitions lists the range partitions with their bounds (the
-- DEFAULT partition has none), read from the catalog in UTC.
CREATE FUNCTION certfleet_connection_history_partitions()
RETURNS TABLE (partition regclass, lower_bound timestamptz, upper_bound timestamptz) LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET "TimeZone" = 'UTC'
AS $$
BEGIN
  RETURN QUERY
  SELECT c.oid::regclass, b[1]::timestamptz, b[2]::timestamptz
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') AS b
  WHERE i.inhparent = 'connection_results'::regclass;
END
$$;--> statement-breakpoint
-- certfleet_prepare_connection_history creates the partitions, each p_days UTC days long, that
-- [p_from, p_until) still lacks, leaving existing partitions as they are (a gap between two is
-- filled up to the next one). Rows of a new partition's range that wait in the DEFAULT partition
-- (maintenance was late) are moved into it first. Returns how many it created.
CREATE FUNCTION certfleet_prepare_connection_history(p_from timestamptz, p_until timestamptz, p_days integer)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET "TimeZone" = 'UTC'
AS $$
DECLARE
  lo timestamptz := date_trunc('day', p_from);
  hi timestamptz;
  covering timestamptz;
  next_lower timestamptz;
  part text;
  created integer := 0;
  -- Named with its schema: pg_catalog comes first on the pinned path, and would get the new tables.
  sch text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.oid = 'connection_results'::regclass);
BEGIN
  IF p_days IS NULL OR p_days < 1 OR p_days > 3650 THEN
    RAISE EXCEPTION 'partition length must be 1 to 3650 days (got %)', p_days USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_until - p_from > interval '3660 days' THEN
    RAISE EXCEPTION 'will not prepare more than 3660 days of partitions at once' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  WHILE lo < p_until LOOP
    SELECT max(upper_bound) INTO covering FROM certfleet_connection_history_partitions()
      WHERE lower_bound <= lo AND upper_bound > lo;
    IF covering IS NOT NULL THEN
      lo := covering;
      CONTINUE;
    END IF;
    SELECT min(lower_bound) INTO next_lower FROM certfleet_connection_history_partitions() WHERE lower_bound > lo;
    hi := lo + make_interval(days => p_days);
    IF next_lower IS NOT NULL AND next_lower < hi THEN
      hi := next_lower;
    END IF;
    part := 'connection_results_p' || to_char(lo, 'YYYYMMDD');
    -- Created apart, filled from the DEFAULT partition, then attached: the same path whether or not
    -- rows of its range arrived early, and the attach finds nothing left in DEFAULT to refuse.
    EXECUTE format('CREATE TABLE %I.%I (LIKE connection_results INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', sch, part);
    EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I CHECK (at IS NOT NULL AND at >= %L AND at < %L)',
      sch, part, part || '_bounds', lo, hi);
    EXECUTE format('WITH moved AS (DELETE FROM connection_results_default WHERE at >= %L AND at < %L RETURNING *)
      INSERT INTO %I.%I SELECT * FROM moved', lo, hi, sch, part);
    EXECUTE format('ALTER TABLE connection_results ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)', sch, part, lo, hi);
    -- The bounds check only spared the attach a scan: the partition's bound says the same.
    EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', sch, part, part || '_bounds');
    created := created + 1;
    lo := hi;
  END LOOP;
  RETURN created;
END
$$;--> statement-breakpoint
-- certfleet_drop_connection_history drops the partitions that end at or before p_before (all their
-- rows are older) and deletes the DEFAULT partition's rows older than p_before. Returns the number
-- of partitions dropped and of rows deleted from DEFAULT.
CREATE FUNCTION certfleet_drop_connection_history(p_before timestamptz)
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
  RETURN NEXT;
END
$$;--> statement-breakpoint
-- Each function reads and changes the tables of the schema this migration runs in.
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION certfleet_connection_history_partitions() SET search_path = pg_catalog, %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION certfleet_prepare_connection_history(timestamptz, timestamptz, integer) SET search_path = pg_catalog, %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION certfleet_drop_connection_history(timestamptz) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END
$$;--> statement-breakpoint
-- The existing rows: partitions of a tenth of the days they span (at least one day, as the rounds
-- make them: historyPartitionDays), up to a few days ahead, then copied over, ids kept.
DO $$
DECLARE
  oldest timestamptz;
  span_days integer;
BEGIN
  SELECT min(at) INTO oldest FROM connection_results_unpartitioned;
  oldest := least(coalesce(oldest, now()), now());
  span_days := ceil(extract(epoch FROM now() - oldest) / 86400)::integer;
  PERFORM certfleet_prepare_connection_history(oldest, now() + interval '4 days',
    greatest(1, ceil(span_days / 10.0))::integer);
END
$$;--> statement-breakpoint
INSERT INTO "connection_results" ("id", "device_id", "at", "source", "result", "failure_reason", "agent_version",
  "certificate_serial_number", "certificate_not_after", "verified", "unverified_reason", "remote_address")
OVERRIDING SYSTEM VALUE
SELECT "id", "device_id", "at", "source", "result", "failure_reason", "agent_version",
  "certificate_serial_number", "certificate_not_after", "verified", "unverified_reason", "remote_address"
FROM "connection_results_unpartitioned";--> statement-breakpoint
SELECT setval(pg_get_serial_sequence('connection_results', 'id'),
  greatest((SELECT last_value FROM "connection_results_unpartitioned_id_seq"), coalesce((SELECT max("id") FROM "connection_results"), 1)));--> statement-breakpoint
DROP TABLE "connection_results_unpartitioned";--> statement-breakpoint
-- Only the owner (through the functions) makes or drops partitions: the server calls the functions.
REVOKE ALL ON FUNCTION certfleet_prepare_connection_history(timestamptz, timestamptz, integer) FROM PUBLIC;--> statement-breakpoint
REVOKE ALL ON FUNCTION certfleet_drop_connection_history(timestamptz) FROM PUBLIC;
