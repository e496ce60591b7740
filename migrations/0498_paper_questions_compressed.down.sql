-- The compressed questions cannot be decompressed in SQL. A paper no attempt has started on is
-- deleted (a start without a stored paper draws it again, from the same seed); one an attempt sat on
-- keeps its positions (items) and loses only its questions, which the paper's reader then makes
-- from the positions and the bank versions, as for attempts older than stored papers.
DELETE FROM exam_papers p WHERE questions IS NULL AND NOT EXISTS (
	SELECT 1 FROM exam_attempts a WHERE a.registration_id = p.registration_id AND a.number = p.number);
ALTER TABLE exam_papers DROP CONSTRAINT exam_papers_questions_once;
ALTER TABLE exam_papers DROP COLUMN questions_gz;
ALTER TABLE exam_papers RESET (toast_tuple_target);
