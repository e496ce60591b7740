-- The kind of a childcare institution as filed with the health commission: an ordinary centre (no
-- row) or a home childcare point (家庭托育点), which has its own limits in the class-type table.
CREATE TABLE audit_institution_kinds (
	organisation_id bigint PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
	kind            text NOT NULL CHECK (kind IN ('centre', 'home_point')),
	set_by          bigint NOT NULL REFERENCES users (id),
	set_at          timestamptz NOT NULL DEFAULT now()
);
