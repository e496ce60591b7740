-- Attempts submitted because an account was disabled count as submitted by the deadline again.
UPDATE exam_attempts SET submit_reason = 'deadline' WHERE submit_reason = 'account_disabled';
ALTER TABLE exam_attempts DROP CONSTRAINT exam_attempts_submit_reason_check;
ALTER TABLE exam_attempts ADD CONSTRAINT exam_attempts_submit_reason_check
	CHECK (submit_reason IN ('candidate', 'deadline'));
