-- An attempt may also end because its registration was rejected while it was being answered: it
-- ends with that reason and gets no result.
ALTER TABLE exam_attempts DROP CONSTRAINT exam_attempts_submit_reason_check;
ALTER TABLE exam_attempts ADD CONSTRAINT exam_attempts_submit_reason_check
	CHECK (submit_reason IN ('candidate', 'deadline', 'account_disabled', 'registration_rejected'));
