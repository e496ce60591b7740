DROP TABLE IF EXISTS lesson_attachments;
