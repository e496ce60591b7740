-- certificates: the CA of the built-in PKI keeps its key (sealed under SHANYU_SECRET_KEY, the
-- fingerprint being the additional data), so that it can issue a new PDF signing certificate at each
-- rotation and the local TSA's, and sign the CRL each certificate names. Signers record the CA that
-- issued them, and when they were revoked (then their serial is on the CRL).
CREATE TABLE certificate_cas (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	certificate_pem text NOT NULL CHECK (certificate_pem LIKE '-----BEGIN CERTIFICATE-----%'),
	private_key_enc bytea NOT NULL,
	fingerprint     text NOT NULL UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
	created_at      timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE certificate_pdf_signers
	ADD COLUMN ca_id bigint REFERENCES certificate_cas (id),
	ADD COLUMN revoked_at timestamptz;
