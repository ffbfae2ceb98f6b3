-- Cheaper index maintenance per shipped decision (BENCHMARKS.md, "Fleet shipping", third
-- round), serving the same fleet-view queries:
-- * decisions_hall_seq duplicated the primary key's leading columns (hall_id, seq): every
--   lookup and ordered walk by hall and seq (the shipper's resume, `fleet verify`) uses the key.
-- * decision ids and correlation ids are random and only ever looked up by equality (a decision
--   by id, a trace, the explorer's correlation filter, whose few matches are then sorted): a
--   hash index keeps a 4-byte hash code per row instead of the ~36-byte text, and an insert
--   hashes once instead of comparing strings down a tree (over 2M rows of random decision ids:
--   73 MB against a B-tree's 113 MB; a lookup takes 0.1 ms either way).
-- On a store already holding many decisions the two CREATE INDEX build over every partition
-- (minutes per ten million rows); the first hall to connect runs it, under the migration lock.
DROP INDEX decisions_hall_seq;
DROP INDEX decisions_correlation;
DROP INDEX decisions_decision_id;
CREATE INDEX decisions_correlation ON decisions USING hash (correlation_id);
CREATE INDEX decisions_decision_id ON decisions USING hash (decision_id);
