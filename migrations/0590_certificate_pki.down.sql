ALTER TABLE certificate_pdf_signers
	DROP COLUMN revoked_at,
	DROP COLUMN ca_id;
DROP TABLE certificate_cas;
