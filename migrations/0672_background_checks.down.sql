DROP TABLE audit_background_checks;
