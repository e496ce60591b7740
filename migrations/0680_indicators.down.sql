DROP TABLE audit_indicator_snapshots;
DROP TABLE audit_indicator_targets;
DROP TABLE audit_institution_places;
DROP TABLE audit_townships;
DROP TABLE audit_region_population;
