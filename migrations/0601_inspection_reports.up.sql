-- The signed PDF report of a finished inspection: for the regulator and the institution, never public.
CREATE TABLE audit_inspection_reports (
	inspection_id bigint PRIMARY KEY REFERENCES audit_inspections (id),
	pdf           bytea NOT NULL,
	sha256        bytea NOT NULL CHECK (length(sha256) = 32),
	created_at    timestamptz NOT NULL DEFAULT now()
);
