DROP INDEX certificates_issuer_code;
ALTER TABLE certificates
	DROP COLUMN holder_name,
	DROP COLUMN holder_id_last4,
	DROP COLUMN holder_photo,
	DROP COLUMN holder_photo_type,
	DROP COLUMN issuer_code,
	DROP COLUMN issuer_region;
