-- Sharded audit chains (docs/audit.md "Shards"). Every row now names its shard; the id encodes
-- (shard, position): id = shard × 2^40 + position, so the rows written before this migration are
-- exactly shard 0's chain (the legacy `chain:global`) and keep their ids and hashes.
-- Cheap on a large table: ADD COLUMN with a constant default rewrites nothing.
ALTER TABLE audit_events ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
