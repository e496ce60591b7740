-- Background checks of a staff member (draft 托育服务法, 2025-12: before hiring and every year): the
-- kind, the day, the result, the document (a photo or a PDF, typed by content) and who recorded it.
CREATE TABLE audit_background_checks (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	roster_id    bigint NOT NULL REFERENCES audit_roster (id) ON DELETE CASCADE,
	kind         text NOT NULL CHECK (kind IN ('no_criminal_record', 'employment_ban', 'health')),
	checked_on   date NOT NULL,
	result       text NOT NULL CHECK (result IN ('clear', 'record_found')),
	content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
	document     bytea NOT NULL CHECK (length(document) BETWEEN 1 AND 8388608),
	recorded_by  bigint NOT NULL REFERENCES users (id),
	recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_background_checks_roster ON audit_background_checks (roster_id, kind, checked_on DESC);
