-- accounts: a person's identity is verified when centre or regulator staff checked their ID document
-- against the citizen ID number on file; who did it and when are kept on the person.
ALTER TABLE people
	ADD COLUMN identity_verified_at timestamptz,
	ADD COLUMN identity_verified_by bigint REFERENCES users (id),
	ADD CONSTRAINT people_identity_verified CHECK ((identity_verified_at IS NULL) = (identity_verified_by IS NULL));
