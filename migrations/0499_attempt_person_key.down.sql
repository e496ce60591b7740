ALTER TABLE exam_registrations ADD CONSTRAINT exam_registrations_id_session_key UNIQUE (id, session_id);
ALTER TABLE exam_attempts
	ADD CONSTRAINT exam_attempts_registration_session_fkey FOREIGN KEY (registration_id, session_id)
		REFERENCES exam_registrations (id, session_id),
	ADD CONSTRAINT exam_attempts_person_id_fkey FOREIGN KEY (person_id) REFERENCES people (id),
	DROP CONSTRAINT exam_attempts_registration_fkey;
ALTER TABLE exam_registrations DROP CONSTRAINT exam_registrations_id_session_person_key;
