-- A qualification rule carries its region in its casbin domain (region:* everywhere, region:3301* in
-- 3301 and below): the rules stored before that applied everywhere, and keep doing so.
UPDATE audit_qualification_rules SET line = regexp_replace(line, '^p, ([^,]+), post:', 'p, \1, region:*, post:')
WHERE line ~ '^p, [^,]+, post:';
