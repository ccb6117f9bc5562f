-- A version per table that every node keeps in memory (the gift catalogue,
-- the level ladders): moved by a trigger on every insert, update or delete,
-- whoever writes. A gift batch reads these rows in a statement it sends
-- anyway and reads a table again only when its version moved.
CREATE TABLE cache_versions (
  name TEXT PRIMARY KEY,
  version BIGINT NOT NULL
);
INSERT INTO cache_versions (name, version) VALUES ('gifts', 0), ('level_steps', 0);

CREATE FUNCTION bump_cache_version() RETURNS TRIGGER AS $$
BEGIN
  UPDATE cache_versions SET version = version + 1 WHERE name = TG_TABLE_NAME;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cache_version_gifts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON gifts
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
CREATE TRIGGER cache_version_level_steps AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON level_steps
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
