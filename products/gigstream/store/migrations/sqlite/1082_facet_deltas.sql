-- PostgreSQL's 1082 moves the facet counting into appended deltas, folded
-- into the cells by the `fold-facets` job, so that gigs changing cells in
-- concurrent transactions never wait on each other in a cycle. SQLite runs
-- one writing transaction at a time, so its triggers (1081) keep the cells
-- directly; the table exists here too, always empty, so reads and the
-- invariant are one SQL text on both stores.
CREATE TABLE gig_facet_deltas (
  id INTEGER PRIMARY KEY,
  category TEXT NOT NULL,
  subcategory TEXT NOT NULL,
  seller_level TEXT NOT NULL,
  band INTEGER NOT NULL,
  days INTEGER NOT NULL,
  stars INTEGER NOT NULL,
  n INTEGER NOT NULL
);
