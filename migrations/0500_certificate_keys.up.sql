-- certificates: the keys that sign offline tokens and credentials (Ed25519) and certificate PDFs (X.509).
-- Private keys are sealed with AES-256-GCM under SHANYU_SECRET_KEY, the key id being the additional data.

CREATE TABLE certificate_signing_keys (
	kid             text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{8,64}$'),
	algorithm       text NOT NULL DEFAULT 'EdDSA' CHECK (algorithm = 'EdDSA'),
	public_key      bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
	private_key_enc bytea NOT NULL,
	status          text NOT NULL CHECK (status IN ('active', 'retired')),
	created_at      timestamptz NOT NULL DEFAULT now(),
	retired_at      timestamptz,
	CHECK ((status = 'retired') = (retired_at IS NOT NULL))
);
-- At most one key signs new tokens; retired keys stay published so that what they signed still verifies.
CREATE UNIQUE INDEX certificate_signing_keys_one_active ON certificate_signing_keys ((true)) WHERE status = 'active';

-- The X.509 certificate and key that sign PDFs when no files are configured (SHANYU_PDF_CERT_FILE,
-- SHANYU_PDF_KEY_FILE). `shanyu keys init` puts a demo CA and issuing certificate here; the CA's own
-- key is not kept.
CREATE TABLE certificate_pdf_signers (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	certificate_pem text NOT NULL CHECK (certificate_pem LIKE '-----BEGIN CERTIFICATE-----%'),
	chain_pem       text NOT NULL DEFAULT '',
	private_key_enc bytea NOT NULL,
	fingerprint     text NOT NULL UNIQUE,
	not_after       timestamptz NOT NULL,
	active          boolean NOT NULL DEFAULT true,
	created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX certificate_pdf_signers_one_active ON certificate_pdf_signers ((true)) WHERE active;
