-- The inspection workflow: open → signed (the first signature freezes a snapshot of the whole
-- inspection, from which the report is printed) → finished (countersigned). revision counts the
-- changes, so a signature can tell that nothing moved while it was being made.
ALTER TABLE audit_inspections DROP CONSTRAINT audit_inspections_status_check;
ALTER TABLE audit_inspections ADD CONSTRAINT audit_inspections_status_check CHECK (status IN ('open', 'signed', 'finished'));
ALTER TABLE audit_inspections ADD COLUMN revision bigint NOT NULL DEFAULT 0;
ALTER TABLE audit_inspections ADD COLUMN snapshot jsonb;
ALTER TABLE audit_inspections ADD COLUMN snapshot_at timestamptz;

-- A roster member not met on site, with the reason the inspector gave.
CREATE TABLE audit_absences (
	inspection_id bigint NOT NULL REFERENCES audit_inspections (id) ON DELETE CASCADE,
	roster_id     bigint NOT NULL REFERENCES audit_roster (id) ON DELETE CASCADE,
	reason        text NOT NULL CHECK (reason <> ''),
	recorded_by   bigint NOT NULL REFERENCES users (id),
	recorded_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (inspection_id, roster_id)
);

-- A correction after an inspection finished: it never changes the signed report, it references it.
CREATE TABLE audit_addenda (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	inspection_id  bigint NOT NULL REFERENCES audit_inspections (id) ON DELETE CASCADE,
	note           text NOT NULL CHECK (note <> ''),
	report_sha256  bytea CHECK (length(report_sha256) = 32),
	created_by     bigint NOT NULL REFERENCES users (id),
	created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_addenda_inspection ON audit_addenda (inspection_id, id);
