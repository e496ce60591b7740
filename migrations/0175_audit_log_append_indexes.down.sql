CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE hash IS NULL;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_hash_key UNIQUE (hash);
