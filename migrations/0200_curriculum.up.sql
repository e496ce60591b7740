-- curriculum: courses and their versions, modules and lessons, enrolments, lesson progress, practical
-- sessions with sign-ups and attendance, and the append-only training-hours ledger.

-- A course belongs to a training centre. Its content lives in versions; the catalogue shows the
-- published version (none when the course is unpublished).
CREATE TABLE courses (
	id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id      bigint NOT NULL REFERENCES organisations (id),
	published_version_id bigint,
	created_by           bigint REFERENCES users (id),
	created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX courses_organisation ON courses (organisation_id);

-- A version is a draft until published; a published version is never edited again (editing makes a
-- new draft), so learners enrolled in it keep exactly what they enrolled in.
CREATE TABLE course_versions (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	course_id       bigint NOT NULL REFERENCES courses (id),
	number          integer NOT NULL CHECK (number > 0),
	status          text NOT NULL CHECK (status IN ('draft', 'published', 'superseded')),
	title           text NOT NULL CHECK (title <> ''),
	summary         text NOT NULL DEFAULT '',
	occupation_code text NOT NULL CHECK (occupation_code ~ '^[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}$'),
	level           smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
	required_hours  numeric(6,2) NOT NULL CHECK (required_hours >= 0),
	created_by      bigint REFERENCES users (id),
	created_at      timestamptz NOT NULL DEFAULT now(),
	published_at    timestamptz,
	UNIQUE (course_id, number)
);
CREATE UNIQUE INDEX course_versions_one_draft ON course_versions (course_id) WHERE status = 'draft';
ALTER TABLE courses ADD FOREIGN KEY (published_version_id) REFERENCES course_versions (id);

CREATE TABLE course_modules (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	version_id bigint NOT NULL REFERENCES course_versions (id) ON DELETE CASCADE,
	position   integer NOT NULL,
	title      text NOT NULL CHECK (title <> ''),
	UNIQUE (version_id, position)
);

CREATE TABLE lessons (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	module_id   bigint NOT NULL REFERENCES course_modules (id) ON DELETE CASCADE,
	position    integer NOT NULL,
	title       text NOT NULL CHECK (title <> ''),
	body_md     text NOT NULL DEFAULT '',
	video_url   text NOT NULL DEFAULT '',
	hours       numeric(5,2) NOT NULL CHECK (hours >= 0 AND hours <= 100),
	min_seconds integer NOT NULL CHECK (min_seconds BETWEEN 0 AND 36000),
	UNIQUE (module_id, position)
);

-- One enrolment per person and course; it pins the version the person enrolled in.
CREATE TABLE enrolments (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	course_id   bigint NOT NULL REFERENCES courses (id),
	version_id  bigint NOT NULL REFERENCES course_versions (id),
	person_id   bigint NOT NULL REFERENCES people (id),
	enrolled_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (course_id, person_id)
);
CREATE INDEX enrolments_person ON enrolments (person_id);

-- opened_at is set by the server when the learner first opens the lesson; completion is accepted only
-- once the lesson's min_seconds have passed since then.
CREATE TABLE lesson_progress (
	enrolment_id bigint NOT NULL REFERENCES enrolments (id),
	lesson_id    bigint NOT NULL REFERENCES lessons (id),
	opened_at    timestamptz NOT NULL,
	completed_at timestamptz,
	PRIMARY KEY (enrolment_id, lesson_id)
);

-- Practical sessions (实训) at a training base.
CREATE TABLE practical_sessions (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id bigint NOT NULL REFERENCES organisations (id),
	base_id         bigint NOT NULL REFERENCES training_bases (id),
	course_id       bigint REFERENCES courses (id),
	title           text NOT NULL CHECK (title <> ''),
	occupation_code text NOT NULL CHECK (occupation_code ~ '^[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}$'),
	level           smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
	starts_at       timestamptz NOT NULL,
	ends_at         timestamptz NOT NULL CHECK (ends_at > starts_at),
	capacity        integer NOT NULL CHECK (capacity BETWEEN 1 AND 1000),
	trainer_id      bigint NOT NULL REFERENCES users (id),
	hours           numeric(5,2) NOT NULL CHECK (hours > 0 AND hours <= 24),
	created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX practical_sessions_org ON practical_sessions (organisation_id, starts_at);

CREATE TABLE session_signups (
	session_id     bigint NOT NULL REFERENCES practical_sessions (id),
	person_id      bigint NOT NULL REFERENCES people (id),
	status         text NOT NULL CHECK (status IN ('confirmed', 'waiting', 'cancelled')),
	signed_up_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
	checked_in_at  timestamptz,
	checked_out_at timestamptz,
	PRIMARY KEY (session_id, person_id),
	CHECK (checked_out_at IS NULL OR checked_in_at IS NOT NULL)
);

-- Each signed check-in code may be used once per person: a second use is a replay.
CREATE TABLE checkin_redemptions (
	nonce      text NOT NULL,
	person_id  bigint NOT NULL REFERENCES people (id),
	session_id bigint NOT NULL REFERENCES practical_sessions (id),
	used_at    timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (nonce, person_id)
);

-- The hours ledger is append-only: a correction is a new entry (hours may be negative) with a reason
-- and the actor, pointing at the entry it corrects.
CREATE TABLE hours_ledger (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	person_id       bigint NOT NULL REFERENCES people (id),
	kind            text NOT NULL CHECK (kind IN ('lesson', 'session', 'correction')),
	occupation_code text NOT NULL,
	level           smallint NOT NULL,
	course_id       bigint REFERENCES courses (id),
	lesson_id       bigint REFERENCES lessons (id),
	session_id      bigint REFERENCES practical_sessions (id),
	corrects_id     bigint REFERENCES hours_ledger (id),
	hours           numeric(6,2) NOT NULL,
	earned_at       timestamptz NOT NULL,
	reason          text NOT NULL DEFAULT '',
	actor_id        bigint REFERENCES users (id),
	created_at      timestamptz NOT NULL DEFAULT now(),
	CHECK (kind = 'correction' OR hours >= 0),
	CHECK (kind <> 'correction' OR (reason <> '' AND actor_id IS NOT NULL AND corrects_id IS NOT NULL)),
	CHECK (kind <> 'lesson' OR lesson_id IS NOT NULL),
	CHECK (kind <> 'session' OR session_id IS NOT NULL)
);
CREATE INDEX hours_ledger_person ON hours_ledger (person_id, occupation_code, earned_at);
CREATE UNIQUE INDEX hours_ledger_one_lesson ON hours_ledger (person_id, lesson_id) WHERE kind = 'lesson';
CREATE UNIQUE INDEX hours_ledger_one_session ON hours_ledger (person_id, session_id) WHERE kind = 'session';

CREATE FUNCTION hours_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'hours_ledger is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER hours_ledger_no_update BEFORE UPDATE OR DELETE ON hours_ledger
	FOR EACH ROW EXECUTE FUNCTION hours_ledger_append_only();
CREATE TRIGGER hours_ledger_no_truncate BEFORE TRUNCATE ON hours_ledger
	FOR EACH STATEMENT EXECUTE FUNCTION hours_ledger_append_only();
