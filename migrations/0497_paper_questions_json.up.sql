-- exams: a stored paper's questions are kept as json (the text as built), not jsonb. Nothing in the
-- database looks inside them: every start and every resume sends them to the exam page as they are,
-- and writing jsonb out as text cost PostgreSQL about twice the time of sending the stored text
-- (issue #21 item 2: 2,000 starts in the same second each read one).
ALTER TABLE exam_papers ALTER COLUMN questions TYPE json USING questions::json;
