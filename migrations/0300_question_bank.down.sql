DROP TABLE IF EXISTS bank_images;
DROP TABLE IF EXISTS bank_item_tags;
ALTER TABLE IF EXISTS bank_items DROP CONSTRAINT IF EXISTS bank_items_current_version_fk;
DROP TABLE IF EXISTS bank_item_versions;
DROP FUNCTION IF EXISTS bank_item_versions_frozen();
DROP TABLE IF EXISTS bank_items;
DROP TABLE IF EXISTS bank_tags;
DROP TABLE IF EXISTS bank_categories;
