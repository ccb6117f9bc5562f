-- PostgreSQL's 1080 adds gig_tsquery, so its search matches the gigs' own
-- tsvector; SQLite's search joins its FTS5 table gig_fts as before and
-- needs nothing new. Kept so both stores number their migrations alike.
SELECT 1;
