ALTER TABLE certificate_verifications ADD CONSTRAINT certificate_verifications_certificate_id_fkey
	FOREIGN KEY (certificate_id) REFERENCES certificates (id);
