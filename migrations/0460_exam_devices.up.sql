-- exams: exam day on a real phone (issue #16). One device holds an attempt at a time; every device
-- that ever held it keeps its number and token (exam_attempts.devices is the holder's number, so the
-- holder always has the highest). Answers are numbered per device, so the sequence numbers of two
-- devices never collide, and the latest answer at a position is the one with the highest
-- (device_no, seq). Answers the server could not count (sent by a device that no longer held the
-- attempt, or arriving after it was submitted or its time was up) are kept as evidence, never scored.
CREATE TABLE exam_attempt_devices (
	attempt_id bigint NOT NULL REFERENCES exam_attempts (id) ON DELETE CASCADE,
	device_no  integer NOT NULL CHECK (device_no > 0),
	token      text NOT NULL UNIQUE,
	held_from  timestamptz NOT NULL,
	PRIMARY KEY (attempt_id, device_no)
);
INSERT INTO exam_attempt_devices (attempt_id, device_no, token, held_from)
	SELECT id, devices, device_token, last_seen_at FROM exam_attempts;

ALTER TABLE exam_answers ADD COLUMN device_no integer, ADD COLUMN typed_at timestamptz;
UPDATE exam_answers e SET device_no = a.devices FROM exam_attempts a WHERE a.id = e.attempt_id;
ALTER TABLE exam_answers ALTER COLUMN device_no SET NOT NULL,
	DROP CONSTRAINT exam_answers_pkey, ADD PRIMARY KEY (attempt_id, device_no, seq);

CREATE TABLE exam_answer_evidence (
	attempt_id bigint NOT NULL,
	device_no  integer NOT NULL,
	seq        bigint NOT NULL CHECK (seq > 0),
	position   integer NOT NULL,
	response   jsonb NOT NULL,
	-- late: arrived after the attempt was submitted or after its deadline plus grace;
	-- taken_over: sent by a device after another device took the attempt over
	reason     text NOT NULL CHECK (reason IN ('late', 'taken_over')),
	typed_at   timestamptz, -- what the phone says (its clock corrected by its last sync): never counts
	arrived_at timestamptz NOT NULL,
	PRIMARY KEY (attempt_id, device_no, seq),
	FOREIGN KEY (attempt_id, device_no) REFERENCES exam_attempt_devices ON DELETE CASCADE
);
