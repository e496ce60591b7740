ALTER TABLE audit_scans DROP COLUMN offline;
