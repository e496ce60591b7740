ALTER TABLE people
	DROP CONSTRAINT people_identity_verified,
	DROP COLUMN identity_verified_by,
	DROP COLUMN identity_verified_at;
