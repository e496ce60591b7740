-- exams: an attempt's person is checked through its registration too (migration 0495 did this for
-- its session): the triple must be one of exam_registrations', whose own foreign key keeps the person
-- real. The foreign key to people share-locked the candidate's people row at every start, a tuple
-- lock written to the row and to the WAL, and ran a check query of its own; the registration's row
-- is locked FOR UPDATE by the start already, so checking the triple there costs one check and no
-- lock (issue #21 item 2). It also says more: the attempt's person is the registration's.
ALTER TABLE exam_registrations ADD CONSTRAINT exam_registrations_id_session_person_key UNIQUE (id, session_id, person_id);
ALTER TABLE exam_attempts
	ADD CONSTRAINT exam_attempts_registration_fkey FOREIGN KEY (registration_id, session_id, person_id)
		REFERENCES exam_registrations (id, session_id, person_id),
	DROP CONSTRAINT exam_attempts_registration_session_fkey,
	DROP CONSTRAINT exam_attempts_person_id_fkey;
ALTER TABLE exam_registrations DROP CONSTRAINT exam_registrations_id_session_key;
