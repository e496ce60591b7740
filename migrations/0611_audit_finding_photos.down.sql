DROP TABLE audit_finding_photos;
