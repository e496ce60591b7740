DROP TABLE audit_findings, audit_headcounts, audit_scans, audit_inspection_inspectors, audit_inspections,
	audit_rounds, audit_inspector_conflicts, audit_qualification_rules, audit_barred_persons,
	audit_external_certificates, audit_assignments, audit_roster, audit_classes, audit_class_types;
