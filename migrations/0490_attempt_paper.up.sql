-- exams: a start no longer copies its paper (issue #21 item 1). The paper an attempt is sat on is the
-- one built before the start, exam_papers (registration_id, number), which nothing changes once an
-- attempt of that number exists (a build only ever writes the paper of the next attempt, under the
-- registration's lock). Its positions become rows of exam_attempt_items when the attempt leaves
-- 'active' (graded, or ended by a rejection), where the scores are kept; until then they are read
-- from the stored paper. exam_attempt_paper is the paper of any attempt, whichever holds it.
ALTER TABLE exam_attempts ADD COLUMN positions integer;
UPDATE exam_attempts a SET positions = (SELECT count(*) FROM exam_attempt_items i WHERE i.attempt_id = a.id);
-- Attempts started before this migration all have their rows; the positions are 0..positions-1.
ALTER TABLE exam_attempts ALTER COLUMN positions SET NOT NULL,
	ADD CONSTRAINT exam_attempts_positions_check CHECK (positions >= 0);

CREATE VIEW exam_attempt_paper AS
SELECT i.attempt_id, i.position, i.section, i.part, i.item_id, i.version_id, i.points, i.option_order
FROM exam_attempt_items i
UNION ALL
SELECT a.id, t.p, t.s, t.t, t.i, t.v, t.x::numeric(8,2), coalesce(t.o, '{}')
FROM exam_attempts a
JOIN exam_papers p ON p.registration_id = a.registration_id AND p.number = a.number
CROSS JOIN LATERAL jsonb_to_recordset(p.items) AS t(p integer, s integer, t text, i bigint, v bigint, x float8, o integer[])
WHERE NOT EXISTS (SELECT 1 FROM exam_attempt_items i WHERE i.attempt_id = a.id);
