-- Alerts change after they are created (acknowledged with an author and a note, resolved by
-- themselves): a hall ships an alert again with every change, numbered by its ledger's
-- `change_seq` (ledger schema 9). The upsert on (hall_id, id) applies a row only when its
-- change_seq is newer than the stored one, so a batch shipped twice, or late, never takes an
-- alert back. Rows shipped by builds before this have change_seq 0: the hall's next session
-- ships them again (its position in this stream is max(change_seq)), with their changes.
ALTER TABLE alerts
    ADD COLUMN acked_by    text,
    ADD COLUMN ack_note    text,
    ADD COLUMN resolved_at timestamptz,
    ADD COLUMN change_seq  bigint NOT NULL DEFAULT 0;

-- Where a hall resumes its alerts stream (max(change_seq) of the hall).
CREATE INDEX alerts_hall_change ON alerts (hall_id, change_seq);
