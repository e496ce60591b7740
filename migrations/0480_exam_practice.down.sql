ALTER TABLE exam_sessions DROP COLUMN review_wrong_answers;
DROP TABLE exam_practice_items;
DROP TABLE exam_practice_runs;
DROP TABLE exam_practice_categories;
