-- Discover pages are read in one direction on every key (featured, popularity,
-- id all descending), so a page boundary is one row-value comparison that
-- the index can seek to.
DROP INDEX idx_fictional_listing;
CREATE INDEX idx_fictional_listing ON fictional_users(is_featured DESC, popularity_score DESC, id DESC) WHERE deleted_at IS NULL AND is_active;
