-- certificates: a request whose holder already has a valid certificate of the same occupation and
-- level issues none; it is marked 'existing' and points to the certificate the holder keeps
-- (renewal stays the continuing-education path). certificate_id is then that certificate's id.
ALTER TABLE certificate_requests DROP CONSTRAINT certificate_requests_status_check;
ALTER TABLE certificate_requests ADD CONSTRAINT certificate_requests_status_check
	CHECK (status IN ('pending', 'issued', 'failed', 'existing'));
CREATE INDEX certificates_holding ON certificates (person_id, occupation_code, level) WHERE status <> 'revoked';
