DROP TABLE exam_answer_evidence;
-- Sequence numbers were shared by all devices before: keep the newest device's answer where two collide.
DELETE FROM exam_answers e WHERE EXISTS (SELECT 1 FROM exam_answers f
	WHERE f.attempt_id = e.attempt_id AND f.seq = e.seq AND f.device_no > e.device_no);
ALTER TABLE exam_answers DROP CONSTRAINT exam_answers_pkey, ADD PRIMARY KEY (attempt_id, seq),
	DROP COLUMN device_no, DROP COLUMN typed_at;
DROP TABLE exam_attempt_devices;
