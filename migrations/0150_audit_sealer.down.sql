-- Rows not sealed yet cannot keep a NULL hash under the old schema: seal them first (`shanyu audit
-- seal`, or a running server) before going down.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END $$;
DROP INDEX audit_log_unsealed;
ALTER TABLE audit_log
	DROP CONSTRAINT audit_log_unsealed_xid,
	DROP CONSTRAINT audit_log_sealed_whole,
	ALTER COLUMN hash SET NOT NULL,
	ALTER COLUMN prev_hash SET NOT NULL,
	DROP COLUMN xid;
