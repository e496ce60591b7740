-- Fails while two people hold the same ID number (claims not yet settled by a check).
DROP INDEX people_id_number_hash;
DROP INDEX people_id_number_recorded;
DROP INDEX people_id_number_bound;
ALTER TABLE people DROP COLUMN id_claim_dropped_at, DROP COLUMN id_claimed;
ALTER TABLE people ADD CONSTRAINT people_id_number_hash_key UNIQUE (id_number_hash);
