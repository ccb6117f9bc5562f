-- A version per table that every node keeps in memory (the gift catalogue,
-- the level ladders): moved by a trigger on every insert, update or delete,
-- whoever writes. A gift batch reads these rows in a statement it sends
-- anyway and reads a table again only when its version moved.
CREATE TABLE cache_versions (
  name TEXT PRIMARY KEY,
  version INTEGER NOT NULL
);
INSERT INTO cache_versions (name, version) VALUES ('gifts', 0), ('level_steps', 0);

CREATE TRIGGER cache_version_gifts_insert AFTER INSERT ON gifts
BEGIN
  UPDATE cache_versions SET version = version + 1 WHERE name = 'gifts';
END;

CREATE TRIGGER cache_version_gifts_update AFTER UPDATE ON gifts
BEGIN
  UPDATE cache_versions SET version = version + 1 WHERE name = 'gifts';
END;

CREATE TRIGGER cache_version_gifts_delete AFTER DELETE ON gifts
BEGIN
  UPDATE cache_versions SET version = version + 1 WHERE name = 'gifts';
END;

CREATE TRIGGER cache_version_level_steps_insert AFTER INSERT ON level_steps
BEGIN
  UPDATE cache_versions SET version = version + 1 WHERE name = 'level_steps';
END;

CREATE TRIGGER cache_version_level_steps_update AFTER UPDATE ON level_steps
BEGIN
  UPDATE cache_versions SET version = version + 1 WHERE name = 'level_steps';
END;

CREATE TRIGGER cache_version_level_steps_delete AFTER DELETE ON level_steps
BEGIN
  UPDATE cache_versions SET version = version + 1 WHERE name = 'level_steps';
END;
