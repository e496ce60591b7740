ALTER TABLE exam_papers ALTER COLUMN questions TYPE jsonb USING questions::jsonb;
