-- exams: a stored paper's questions are kept compressed once, when the paper is built, as the deflate
-- segment that the start's and the paper's answers splice into their gzip stream (internal/gzsplice):
-- 2,000 starts in the same second no longer each decompress the text in PostgreSQL and compress it
-- again in the server (issue #21 item 2). The segment is already compressed, so PostgreSQL is told
-- not to try (STORAGE EXTERNAL), and a paper's row (a few KB) stays in the table's own page instead
-- of moving to the TOAST table (toast_tuple_target): a start reads one heap tuple, no TOAST index.
-- Papers built before this migration keep their json questions; a paper has one or the other.
ALTER TABLE exam_papers ADD COLUMN questions_gz bytea;
ALTER TABLE exam_papers ALTER COLUMN questions_gz SET STORAGE EXTERNAL;
ALTER TABLE exam_papers ALTER COLUMN questions DROP NOT NULL;
ALTER TABLE exam_papers ADD CONSTRAINT exam_papers_questions_once CHECK ((questions IS NULL) <> (questions_gz IS NULL));
ALTER TABLE exam_papers SET (toast_tuple_target = 8160);
