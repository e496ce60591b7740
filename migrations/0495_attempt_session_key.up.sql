-- exams: an attempt's session is checked through its registration (the pair must be one of
-- exam_registrations'), not by a foreign key to exam_sessions. Checking a foreign key takes the
-- referenced row FOR KEY SHARE; 2,000 candidates starting together all share-locked their session's
-- one row, and PostgreSQL records each new holder by rewriting a multixact of all of them, so the
-- attempt's insert cost about 1 ms instead of 0.3 (issue #21 item 2). The registration's row is
-- locked FOR UPDATE by the start already: checking the pair there costs nothing more, and the
-- registration's own foreign key keeps the session real.
ALTER TABLE exam_registrations ADD CONSTRAINT exam_registrations_id_session_key UNIQUE (id, session_id);
ALTER TABLE exam_attempts
	ADD CONSTRAINT exam_attempts_registration_session_fkey FOREIGN KEY (registration_id, session_id)
		REFERENCES exam_registrations (id, session_id),
	DROP CONSTRAINT exam_attempts_session_id_fkey,
	DROP CONSTRAINT exam_attempts_registration_id_fkey;
