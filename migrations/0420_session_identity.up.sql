-- exams: a session may require candidates whose identity a staff member verified (the default).
ALTER TABLE exam_sessions ADD COLUMN require_verified_identity boolean NOT NULL DEFAULT true;
