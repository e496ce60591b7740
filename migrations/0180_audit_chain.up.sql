-- The chain moves out of audit_log into a table of its own (#17 item 3, `shanyu bench auditlog`).
-- An audited write pays for its append row, so the row is made as cheap to insert as a row can be:
-- - audit_log has no CHECK constraint left (PostgreSQL rebuilds each one's expression for every
--   INSERT statement) and no hash columns, and its id's default draws the transaction's xid before the
--   id (the CASE evaluates its condition first), which the append did in a CTE of its own before:
--   the sealer's rule needs "a row's transaction had its xid before the row had its id"
--   (accounts/audit_seal.go). The sequence still hands out ids one at a time (no CACHE).
-- - The sealer inserts each sealed row's prev_hash and hash into audit_chain, in one statement a
--   batch, instead of updating the appended rows (a new version of each, its trigger fired, its dead
--   version vacuumed later, on the pages the writers are filling).
-- Both tables are now strictly append-only: no row of either can change, or be removed, through the
-- triggers. `shanyu audit verify` joins them in id order.
CREATE TABLE audit_chain (
	id        bigint PRIMARY KEY, -- the audit_log row sealed
	prev_hash bytea NOT NULL,
	hash      bytea NOT NULL
);
INSERT INTO audit_chain (id, prev_hash, hash)
	SELECT id, prev_hash, hash FROM audit_log WHERE hash IS NOT NULL ORDER BY id;

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP;
END $$;
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE OR DELETE ON audit_chain
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

ALTER TABLE audit_log
	DROP CONSTRAINT audit_log_sealed_whole,
	DROP CONSTRAINT audit_log_unsealed_xid,
	DROP COLUMN prev_hash,
	DROP COLUMN hash;

-- The identity becomes a column default over a sequence of the same name that carries on from the
-- identity's last value.
DO $$
DECLARE
	last bigint := pg_sequence_last_value(pg_get_serial_sequence('audit_log', 'id')::regclass);
BEGIN
	ALTER TABLE audit_log ALTER COLUMN id DROP IDENTITY;
	CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
	IF last IS NOT NULL THEN
		PERFORM setval('audit_log_id_seq', last);
	END IF;
END $$;
ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT
	CASE WHEN pg_current_xact_id() IS NOT NULL THEN nextval('audit_log_id_seq') END;
