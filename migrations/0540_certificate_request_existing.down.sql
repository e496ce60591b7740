DROP INDEX certificates_holding;
UPDATE certificate_requests SET status = 'issued' WHERE status = 'existing';
ALTER TABLE certificate_requests DROP CONSTRAINT certificate_requests_status_check;
ALTER TABLE certificate_requests ADD CONSTRAINT certificate_requests_status_check
	CHECK (status IN ('pending', 'issued', 'failed'));
