-- Case-insensitive substring search on device names and agent ids (DeviceFilter.search) uses trigram indexes.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
