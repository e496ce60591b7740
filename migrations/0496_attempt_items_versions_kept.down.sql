DROP TRIGGER bank_item_versions_kept ON bank_item_versions;
DROP FUNCTION bank_item_versions_kept();
ALTER TABLE exam_attempt_items ADD CONSTRAINT exam_attempt_items_version_id_fkey
	FOREIGN KEY (version_id) REFERENCES bank_item_versions (id);
