DROP TABLE audit_institution_kinds;
