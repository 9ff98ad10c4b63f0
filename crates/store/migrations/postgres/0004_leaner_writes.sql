-- One index fewer per appended event: seq is the primary key and the CHECK
-- ties prev_seq to seq - 1, so the UNIQUE index on prev_seq adds nothing to
-- "no fork"; the foreign key still refuses a gap.
ALTER TABLE ledger DROP CONSTRAINT ledger_prev_seq_key;
