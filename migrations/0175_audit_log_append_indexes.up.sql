-- Every index on audit_log is paid by every audited write (#17 item 3, `shanyu bench auditlog`), and
-- under many writers each one is also a page they all insert into at once (an unsealed row's NULL hash
-- and its entry in the unsealed index both go to the rightmost leaf). Two are dropped:
-- - the unique index on hash: nothing looks a row up by its hash, and the chain itself makes hashes
--   distinct (each covers the previous one and the row's id); `shanyu audit verify` checks the chain;
-- - the index of unsealed rows: they are always the rows after the last sealed one (the sealed rows
--   are a prefix of the log, CheckAudit fails otherwise), so the sealer and the counts find them by a
--   range of the primary key from there (accounts/audit_seal.go, UnsealedAudit).
-- Left: the primary key, which the sealer's and the viewer's walks in id order need.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_hash_key;
DROP INDEX audit_log_unsealed;
