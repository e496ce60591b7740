-- exams: blueprints, sessions, registrations, attempts with their papers and answers, marking and
-- results. An attempt's paper is generated from a recorded seed over the session's frozen item pool;
-- every answer the server acknowledged is a row of exam_answers, written before the acknowledgement.

CREATE TABLE exam_blueprints (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id bigint NOT NULL REFERENCES organisations (id),
	name            text NOT NULL CHECK (name <> ''),
	occupation      text NOT NULL,
	level           smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
	-- fixed: every candidate gets the same questions (options still shuffled); random: drawn per candidate
	mode            text NOT NULL CHECK (mode IN ('fixed', 'random')),
	-- [{name, part, count, points, category_id, tag, type, difficulty}]
	sections        jsonb NOT NULL,
	created_by      bigint REFERENCES users (id),
	created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exam_blueprints_org ON exam_blueprints (organisation_id);

CREATE TABLE exam_sessions (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id  bigint NOT NULL REFERENCES organisations (id),
	blueprint_id     bigint NOT NULL REFERENCES exam_blueprints (id),
	name             text NOT NULL CHECK (name <> ''),
	occupation       text NOT NULL,
	level            smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
	venue            text NOT NULL DEFAULT '',
	opens_at         timestamptz NOT NULL,
	closes_at        timestamptz NOT NULL,
	latest_start_at  timestamptz NOT NULL,
	duration_s       integer NOT NULL CHECK (duration_s > 0),
	grace_s          integer NOT NULL DEFAULT 30 CHECK (grace_s >= 0),
	attempts_allowed integer NOT NULL DEFAULT 1 CHECK (attempts_allowed > 0),
	theory_pass      numeric(5, 2) NOT NULL DEFAULT 60,
	practical_pass   numeric(5, 2) NOT NULL DEFAULT 60,
	min_hours        numeric(7, 1) NOT NULL DEFAULT 0,
	-- subjective items marked twice by different examiners; a third arbitrates when the two marks
	-- differ by more than arbitration_gap points
	double_marking   boolean NOT NULL DEFAULT false,
	arbitration_gap  numeric(6, 2) NOT NULL DEFAULT 0 CHECK (arbitration_gap >= 0),
	-- the blueprint's sections resolved to bank versions when the session was created:
	-- [{section, part, points, count, versions: [[item_id, version_id], ...]}]
	pool             jsonb NOT NULL,
	-- the fixed-mode draw: the seed every candidate's question choice uses
	fixed_seed       bigint NOT NULL,
	published_at     timestamptz,
	created_by       bigint REFERENCES users (id),
	created_at       timestamptz NOT NULL DEFAULT now(),
	CHECK (opens_at < closes_at AND latest_start_at BETWEEN opens_at AND closes_at)
);
CREATE INDEX exam_sessions_org ON exam_sessions (organisation_id, opens_at);

CREATE TABLE exam_registrations (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	session_id    bigint NOT NULL REFERENCES exam_sessions (id),
	person_id     bigint NOT NULL REFERENCES people (id),
	status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
	extra_s       integer NOT NULL DEFAULT 0 CHECK (extra_s >= 0),
	hours         numeric(7, 1) NOT NULL DEFAULT 0,
	decided_by    bigint REFERENCES users (id),
	decided_at    timestamptz,
	created_at    timestamptz NOT NULL DEFAULT now(),
	UNIQUE (session_id, person_id)
);
CREATE INDEX exam_registrations_person ON exam_registrations (person_id);

CREATE TABLE exam_attempts (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	session_id      bigint NOT NULL REFERENCES exam_sessions (id),
	registration_id bigint NOT NULL REFERENCES exam_registrations (id),
	person_id       bigint NOT NULL REFERENCES people (id),
	number          integer NOT NULL CHECK (number > 0),
	seed            bigint NOT NULL,
	started_at      timestamptz NOT NULL,
	-- min(start + duration + extra time, session close); saves are accepted until deadline + grace
	deadline_at     timestamptz NOT NULL,
	grace_s         integer NOT NULL,
	device_token    text NOT NULL,
	devices         integer NOT NULL DEFAULT 1,
	last_seen_at    timestamptz NOT NULL DEFAULT now(),
	last_save_at    timestamptz,
	submitted_at    timestamptz,
	submit_reason   text CHECK (submit_reason IN ('candidate', 'deadline')),
	status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'marking', 'graded')),
	theory_earned     numeric(8, 2) NOT NULL DEFAULT 0,
	theory_possible   numeric(8, 2) NOT NULL DEFAULT 0,
	practical_earned  numeric(8, 2) NOT NULL DEFAULT 0,
	practical_possible numeric(8, 2) NOT NULL DEFAULT 0,
	UNIQUE (registration_id, number),
	CHECK ((submitted_at IS NULL) = (status = 'active'))
);
-- at most one attempt in progress per registration
CREATE UNIQUE INDEX exam_attempts_one_active ON exam_attempts (registration_id) WHERE status = 'active';
CREATE INDEX exam_attempts_session ON exam_attempts (session_id);
CREATE INDEX exam_attempts_due ON exam_attempts (deadline_at) WHERE status = 'active';

-- The paper: which bank version sits at each position, and how its options were shuffled.
CREATE TABLE exam_attempt_items (
	attempt_id   bigint NOT NULL REFERENCES exam_attempts (id) ON DELETE CASCADE,
	position     integer NOT NULL,
	section      integer NOT NULL,
	part         text NOT NULL CHECK (part IN ('theory', 'practical')),
	item_id      bigint NOT NULL,
	version_id   bigint NOT NULL REFERENCES bank_item_versions (id),
	points       numeric(8, 2) NOT NULL,
	option_order integer[] NOT NULL DEFAULT '{}',
	-- grading: null until scored
	earned       numeric(8, 2),
	scored_version_id bigint,
	PRIMARY KEY (attempt_id, position)
);

-- Every acknowledged save, append-only; the answer at a position is the one with the highest seq.
CREATE TABLE exam_answers (
	attempt_id bigint NOT NULL REFERENCES exam_attempts (id) ON DELETE CASCADE,
	seq        bigint NOT NULL CHECK (seq > 0),
	position   integer NOT NULL,
	response   jsonb NOT NULL,
	saved_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (attempt_id, seq)
);

-- Proctoring signals: facts about an attempt (focus lost, paste, device change), never verdicts.
CREATE TABLE exam_signals (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	attempt_id bigint NOT NULL REFERENCES exam_attempts (id) ON DELETE CASCADE,
	kind       text NOT NULL CHECK (kind IN ('focus_lost', 'paste', 'device_change', 'offline')),
	detail     text NOT NULL DEFAULT '',
	at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exam_signals_attempt ON exam_signals (attempt_id);

-- Examiner marks of subjective items. round 1 and 2 are independent markings, 3 is arbitration.
CREATE TABLE exam_marks (
	attempt_id  bigint NOT NULL,
	position    integer NOT NULL,
	round       smallint NOT NULL CHECK (round BETWEEN 1 AND 3),
	examiner_id bigint NOT NULL REFERENCES users (id),
	marks       numeric(8, 2)[] NOT NULL,
	total       numeric(8, 2) NOT NULL,
	marked_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (attempt_id, position, round),
	FOREIGN KEY (attempt_id, position) REFERENCES exam_attempt_items (attempt_id, position) ON DELETE CASCADE
);

CREATE TABLE exam_results (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	session_id      bigint NOT NULL REFERENCES exam_sessions (id),
	registration_id bigint NOT NULL UNIQUE REFERENCES exam_registrations (id),
	attempt_id      bigint REFERENCES exam_attempts (id),
	person_id       bigint NOT NULL REFERENCES people (id),
	theory          numeric(5, 2) NOT NULL,
	practical       numeric(5, 2),
	passed          boolean NOT NULL,
	published_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exam_results_session ON exam_results (session_id);
CREATE INDEX exam_results_person ON exam_results (person_id);
