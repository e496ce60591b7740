-- Rows for the attempts that have none yet, then the view and the column go.
INSERT INTO exam_attempt_items (attempt_id, position, section, part, item_id, version_id, points, option_order)
SELECT attempt_id, position, section, part, item_id, version_id, points, option_order FROM exam_attempt_paper
ON CONFLICT DO NOTHING;
DROP VIEW exam_attempt_paper;
ALTER TABLE exam_attempts DROP COLUMN positions;
