DELETE FROM certificate_signing_keys WHERE algorithm = 'SM2';
DROP INDEX certificate_signing_keys_one_active;
CREATE UNIQUE INDEX certificate_signing_keys_one_active ON certificate_signing_keys ((true)) WHERE status = 'active';
ALTER TABLE certificate_signing_keys
	DROP CONSTRAINT certificate_signing_keys_algorithm_check,
	DROP CONSTRAINT certificate_signing_keys_public_key_check,
	ADD CONSTRAINT certificate_signing_keys_algorithm_check CHECK (algorithm = 'EdDSA'),
	ADD CONSTRAINT certificate_signing_keys_public_key_check CHECK (length(public_key) = 32);
