DROP TABLE audit_inspection_reports;
