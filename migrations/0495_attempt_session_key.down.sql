ALTER TABLE exam_attempts
	ADD CONSTRAINT exam_attempts_registration_id_fkey FOREIGN KEY (registration_id) REFERENCES exam_registrations (id),
	ADD CONSTRAINT exam_attempts_session_id_fkey FOREIGN KEY (session_id) REFERENCES exam_sessions (id),
	DROP CONSTRAINT exam_attempts_registration_session_fkey;
ALTER TABLE exam_registrations DROP CONSTRAINT exam_registrations_id_session_key;
