-- exams: practice and the review of one's wrong answers (issue #21 item 7).
--
-- A centre opens a bank category (with its subcategories) for practice. A practice run draws its
-- objective items one at a time from the open categories' active items, leaving out every item in a
-- pool of one of the centre's sessions that is not yet published or not yet closed, so that practice
-- never shows a live paper. Runs and their items are kept apart from attempts: nothing here is read
-- by grading, results, certificates or the hours ledger.
CREATE TABLE exam_practice_categories (
	category_id     bigint PRIMARY KEY REFERENCES bank_categories (id) ON DELETE CASCADE,
	organisation_id bigint NOT NULL REFERENCES organisations (id),
	opened_by       bigint REFERENCES users (id),
	opened_at       timestamptz NOT NULL
);
CREATE INDEX exam_practice_categories_org ON exam_practice_categories (organisation_id);

CREATE TABLE exam_practice_runs (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	person_id       bigint NOT NULL REFERENCES people (id),
	organisation_id bigint NOT NULL REFERENCES organisations (id),
	category_id     bigint NOT NULL REFERENCES bank_categories (id) ON DELETE CASCADE,
	item_count      integer NOT NULL CHECK (item_count BETWEEN 1 AND 50),
	started_at      timestamptz NOT NULL,
	answered        integer NOT NULL DEFAULT 0,
	correct         integer NOT NULL DEFAULT 0,
	earned          numeric(10, 2) NOT NULL DEFAULT 0,
	possible        numeric(10, 2) NOT NULL DEFAULT 0
);
CREATE INDEX exam_practice_runs_person ON exam_practice_runs (person_id, started_at DESC);

CREATE TABLE exam_practice_items (
	run_id       bigint NOT NULL REFERENCES exam_practice_runs (id) ON DELETE CASCADE,
	position     integer NOT NULL CHECK (position >= 0),
	item_id      bigint NOT NULL REFERENCES bank_items (id) ON DELETE CASCADE,
	version_id   bigint NOT NULL REFERENCES bank_item_versions (id) ON DELETE CASCADE,
	option_order integer[] NOT NULL DEFAULT '{}',
	points       numeric(10, 2) NOT NULL,
	drawn_at     timestamptz NOT NULL,
	response     jsonb,
	earned       numeric(10, 2),
	answered_at  timestamptz,
	PRIMARY KEY (run_id, position),
	UNIQUE (run_id, item_id)
);

-- Whether a candidate may see, once their result is published, the items they got wrong with their
-- answer and the right one. Off unless the centre turns it on.
ALTER TABLE exam_sessions ADD COLUMN review_wrong_answers boolean NOT NULL DEFAULT false;
