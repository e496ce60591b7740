-- Photos taken on site for a finding. The type is sniffed from the content (JPEG, PNG or WebP only);
-- the size limit is the audits domain's, checked again here.
CREATE TABLE audit_finding_photos (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	finding_id   bigint NOT NULL REFERENCES audit_findings (id) ON DELETE CASCADE,
	content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
	data         bytea NOT NULL CHECK (length(data) BETWEEN 1 AND 8388608),
	created_by   bigint NOT NULL REFERENCES users (id),
	created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_finding_photos_finding ON audit_finding_photos (finding_id, id);
