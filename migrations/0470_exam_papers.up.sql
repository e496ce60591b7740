-- exams: papers built before the start (issue #21). A session's item pool is no longer frozen at its
-- creation: a change of its blueprint or of the bank (an item retired, corrected, reactivated) resolves
-- it again and gives it the next revision; every revision is kept (exam_session_pools) so that an
-- attempt's paper can still be rebuilt from its seed and the pool it was drawn from.
--
-- Each approved registration's paper for its next attempt is drawn before the start and stored in the
-- form the exam page reads (questions, as the candidate sees them) beside the positions the attempt
-- copies (items). A paper whose pool revision is older than its session's is rebuilt, until an
-- attempt starts on it; from then on it never changes.
ALTER TABLE exam_sessions ADD COLUMN pool_rev integer NOT NULL DEFAULT 1;

CREATE TABLE exam_session_pools (
	session_id bigint NOT NULL REFERENCES exam_sessions (id) ON DELETE CASCADE,
	rev        integer NOT NULL CHECK (rev > 0),
	pool       jsonb NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (session_id, rev)
);
INSERT INTO exam_session_pools (session_id, rev, pool) SELECT id, 1, pool FROM exam_sessions;

ALTER TABLE exam_attempts ADD COLUMN pool_rev integer NOT NULL DEFAULT 1;

CREATE TABLE exam_papers (
	registration_id bigint NOT NULL REFERENCES exam_registrations (id) ON DELETE CASCADE,
	number          integer NOT NULL CHECK (number > 0), -- the attempt it is for
	session_id      bigint NOT NULL REFERENCES exam_sessions (id) ON DELETE CASCADE,
	seed            bigint NOT NULL,
	pool_rev        integer NOT NULL,
	items           jsonb NOT NULL, -- the positions: section, part, item, version, points, option order
	questions       jsonb NOT NULL, -- the exam page's questions, options in the paper's order
	built_at        timestamptz NOT NULL,
	PRIMARY KEY (registration_id, number)
);
CREATE INDEX exam_papers_session ON exam_papers (session_id);
