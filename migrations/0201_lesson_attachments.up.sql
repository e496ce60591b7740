-- Lesson attachments (PDF and images) live in the database with the course version they belong to. A
-- lesson is addressed by its module and lesson positions, because saving a draft replaces its lessons
-- whole; a published version's attachments are never changed (a new draft gets copies).
CREATE TABLE lesson_attachments (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	version_id      bigint NOT NULL REFERENCES course_versions (id) ON DELETE CASCADE,
	module_position integer NOT NULL,
	lesson_position integer NOT NULL,
	filename        text NOT NULL CHECK (filename <> '' AND length(filename) <= 200),
	content_type    text NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg', 'image/webp')),
	size_bytes      integer NOT NULL CHECK (size_bytes > 0 AND size_bytes <= 10485760),
	data            bytea NOT NULL CHECK (octet_length(data) = size_bytes),
	created_by      bigint REFERENCES users (id),
	created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lesson_attachments_lesson ON lesson_attachments (version_id, module_position, lesson_position);
