ALTER TABLE exam_sessions DROP COLUMN require_verified_identity;
