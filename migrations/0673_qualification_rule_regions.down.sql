-- Rules of one region cannot be said without a region: they go; rules everywhere lose the column.
DELETE FROM audit_qualification_rules WHERE line ~ '^p, [^,]+, region:[0-9]+\*, ';
UPDATE audit_qualification_rules SET line = regexp_replace(line, '^p, ([^,]+), region:\*, ', 'p, \1, ')
WHERE line ~ '^p, [^,]+, region:\*, ';
