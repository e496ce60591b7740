-- certificates: SM2 (GB/T 32918, with SM3) as a second algorithm for QR tokens, selected by
-- SHANYU_TOKEN_ALG. An SM2 public key is the uncompressed point (65 bytes). One active key per
-- algorithm: EdDSA still signs credentials and status lists while SM2 signs tokens.
ALTER TABLE certificate_signing_keys
	DROP CONSTRAINT certificate_signing_keys_algorithm_check,
	DROP CONSTRAINT certificate_signing_keys_public_key_check,
	ADD CONSTRAINT certificate_signing_keys_algorithm_check CHECK (algorithm IN ('EdDSA', 'SM2')),
	ADD CONSTRAINT certificate_signing_keys_public_key_check CHECK (length(public_key) = CASE algorithm WHEN 'SM2' THEN 65 ELSE 32 END);
DROP INDEX certificate_signing_keys_one_active;
CREATE UNIQUE INDEX certificate_signing_keys_one_active ON certificate_signing_keys (algorithm) WHERE status = 'active';
