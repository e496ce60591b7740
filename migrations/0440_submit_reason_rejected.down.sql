UPDATE exam_attempts SET submit_reason = 'candidate' WHERE submit_reason = 'registration_rejected';
ALTER TABLE exam_attempts DROP CONSTRAINT exam_attempts_submit_reason_check;
ALTER TABLE exam_attempts ADD CONSTRAINT exam_attempts_submit_reason_check
	CHECK (submit_reason IN ('candidate', 'deadline', 'account_disabled'));
