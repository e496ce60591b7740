DROP TRIGGER bank_item_versions_kept ON bank_item_versions;
DROP FUNCTION bank_item_versions_kept();
CREATE OR REPLACE FUNCTION bank_item_versions_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.delivered_at IS NOT NULL AND (NEW.content IS DISTINCT FROM OLD.content
			OR NEW.content_hash IS DISTINCT FROM OLD.content_hash) THEN
		RAISE EXCEPTION 'bank item version % has been delivered and cannot change', OLD.id
			USING ERRCODE = 'check_violation', CONSTRAINT = 'bank_item_versions_frozen';
	END IF;
	RETURN NEW;
END $$;
ALTER TABLE exam_attempt_items ADD CONSTRAINT exam_attempt_items_version_id_fkey
	FOREIGN KEY (version_id) REFERENCES bank_item_versions (id);
