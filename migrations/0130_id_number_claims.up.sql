-- accounts: an ID number typed by an account holder is only a claim until a centre checks the ID card.
-- Several accounts may claim one number (sign-up must not tell whether a number is registered); the
-- check binds it to one person (at most one verified person per number) and drops the other claims.
-- Organisations' records of people without an account (rosters, bars) stay one per number.
ALTER TABLE people DROP CONSTRAINT people_id_number_hash_key;
ALTER TABLE people
	-- true: the number was typed by the holder of an account (sign-up, account page, account creation);
	-- false: recorded by an organisation for a person without an account.
	ADD COLUMN id_claimed boolean NOT NULL DEFAULT false,
	-- when a centre's check bound this person's claimed number to another person and dropped it here
	ADD COLUMN id_claim_dropped_at timestamptz;
UPDATE people p SET id_claimed = true WHERE EXISTS (SELECT 1 FROM users u WHERE u.person_id = p.id);
CREATE UNIQUE INDEX people_id_number_bound ON people (id_number_hash) WHERE identity_verified_at IS NOT NULL;
CREATE UNIQUE INDEX people_id_number_recorded ON people (id_number_hash) WHERE NOT id_claimed AND identity_verified_at IS NULL;
CREATE INDEX people_id_number_hash ON people (id_number_hash);
