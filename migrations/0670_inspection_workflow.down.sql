DROP TABLE audit_addenda;
DROP TABLE audit_absences;
ALTER TABLE audit_inspections DROP COLUMN snapshot_at;
ALTER TABLE audit_inspections DROP COLUMN snapshot;
ALTER TABLE audit_inspections DROP COLUMN revision;
UPDATE audit_inspections SET status = 'open' WHERE status = 'signed';
ALTER TABLE audit_inspections DROP CONSTRAINT audit_inspections_status_check;
ALTER TABLE audit_inspections ADD CONSTRAINT audit_inspections_status_check CHECK (status IN ('open', 'finished'));
