-- A device's count of connection results (issue 14): the group commit runs the per-device cap only
-- for devices past CONNECTION_HISTORY_PER_DEVICE (or whose count is unknown), instead of reading every
-- device's history in every history partition on every batch. Never lower than the rows there are;
-- NULL (every device here, and devices the bulk seed writes) means unknown: the next cap on the
-- device counts it. Adding a column without a default rewrites nothing.
ALTER TABLE "devices" ADD COLUMN "history_count" integer;
