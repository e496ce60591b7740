DROP TABLE certificate_lookup_attempts;
DROP TABLE certificate_verifications;
DROP TABLE certificate_versions;
ALTER TABLE certificate_requests DROP CONSTRAINT certificate_requests_certificate;
DROP TABLE certificates;
DROP SEQUENCE certificate_status_index;
DROP TABLE certificate_serials;
DROP TABLE certificate_types;
