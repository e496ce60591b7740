DROP TABLE exam_papers;
ALTER TABLE exam_attempts DROP COLUMN pool_rev;
DROP TABLE exam_session_pools;
ALTER TABLE exam_sessions DROP COLUMN pool_rev;
