-- A certificate keeps its holder and issuer as they were at issuance (what the PDF prints), so that
-- the credential export, the look-up by name and lists do not follow later edits of accounts' rows,
-- and certificates read no table of accounts.
ALTER TABLE certificates
	ADD COLUMN holder_name       text NOT NULL DEFAULT '',
	ADD COLUMN holder_id_last4   text NOT NULL DEFAULT '',
	ADD COLUMN holder_photo      bytea,
	ADD COLUMN holder_photo_type text NOT NULL DEFAULT '',
	ADD COLUMN issuer_code       text NOT NULL DEFAULT '',
	ADD COLUMN issuer_region     text NOT NULL DEFAULT '';

UPDATE certificates c SET holder_name = p.name, holder_id_last4 = p.id_last4, holder_photo = p.photo,
	holder_photo_type = coalesce(p.photo_type, '') FROM people p WHERE p.id = c.person_id;
UPDATE certificates c SET issuer_code = o.code, issuer_region = o.region_code FROM organisations o WHERE o.id = c.centre_id;

CREATE INDEX certificates_issuer_code ON certificates (issuer_code);
