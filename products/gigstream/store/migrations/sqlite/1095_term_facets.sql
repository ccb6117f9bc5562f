-- Per-term search summaries, the same tables as PostgreSQL's 1095, so a
-- one-word search reads its term's facet cells and its best-first page by
-- an index range instead of grouping all its matches.
--
-- gig_words: one row per (term, gig), the terms as FTS5 (unicode61,
-- diacritics removed) makes them from the title, tags and description,
-- weighted 10 for the title + 5 for the tags + 1 for the description.
-- SQLite cannot tokenize in a trigger, so the store writes a gig's words
-- with its text (gigs.rs, the same tokenizer rules as gig_fts); existing
-- gigs get theirs from FTS5's own index below.
CREATE TABLE gig_words (
  term TEXT NOT NULL,
  gig_id TEXT NOT NULL,
  weight INTEGER NOT NULL,
  PRIMARY KEY (term, gig_id)
) WITHOUT ROWID;
CREATE INDEX idx_gig_words_rank ON gig_words (term, weight DESC, gig_id);
CREATE INDEX idx_gig_words_gig ON gig_words (gig_id);

-- gig_term_facets: for each term, the facet cells of the active gigs that
-- hold it (cells as in gig_facets). Kept by the triggers below: a word
-- added to or removed from an active gig, a gig entering or leaving a cell
-- or becoming active or not. SQLite has one writer at a time, so the
-- triggers update the cells directly; gig_term_facet_deltas exists for the
-- shared read shape and stays empty. `gigstream check` compares the cells
-- with a fresh count.
CREATE TABLE gig_term_facets (
  term TEXT NOT NULL,
  category TEXT NOT NULL,
  subcategory TEXT NOT NULL,
  seller_level TEXT NOT NULL,
  band INTEGER NOT NULL,
  days INTEGER NOT NULL,
  stars INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (term, category, subcategory, seller_level, band, days, stars)
) WITHOUT ROWID;
CREATE TABLE gig_term_facet_deltas (
  id INTEGER PRIMARY KEY,
  term TEXT NOT NULL,
  category TEXT NOT NULL,
  subcategory TEXT NOT NULL,
  seller_level TEXT NOT NULL,
  band INTEGER NOT NULL,
  days INTEGER NOT NULL,
  stars INTEGER NOT NULL,
  n INTEGER NOT NULL
);
CREATE INDEX idx_gig_term_facet_deltas_term ON gig_term_facet_deltas (term);

CREATE TRIGGER gig_words_insert AFTER INSERT ON gig_words BEGIN
  INSERT INTO gig_term_facets (term, category, subcategory, seller_level, band, days, stars, n)
  SELECT new.term, g.category, COALESCE(g.subcategory, ''), g.seller_level,
         CASE WHEN g.min_price_minor < 2500 THEN 0 WHEN g.min_price_minor < 10000 THEN 1 WHEN g.min_price_minor < 25000 THEN 2 ELSE 3 END,
         g.min_delivery_days, CASE WHEN g.rating_x100 >= 450 THEN 450 WHEN g.rating_x100 >= 400 THEN 400 ELSE 0 END, 1
  FROM gigs g WHERE g.id = new.gig_id AND g.status = 'active'
  ON CONFLICT (term, category, subcategory, seller_level, band, days, stars) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER gig_words_delete AFTER DELETE ON gig_words BEGIN
  UPDATE gig_term_facets SET n = n - 1
  FROM gigs g
  WHERE g.id = old.gig_id AND g.status = 'active' AND gig_term_facets.term = old.term
    AND gig_term_facets.category = g.category AND gig_term_facets.subcategory = COALESCE(g.subcategory, '')
    AND gig_term_facets.seller_level = g.seller_level
    AND gig_term_facets.band = CASE WHEN g.min_price_minor < 2500 THEN 0 WHEN g.min_price_minor < 10000 THEN 1 WHEN g.min_price_minor < 25000 THEN 2 ELSE 3 END
    AND gig_term_facets.days = g.min_delivery_days
    AND gig_term_facets.stars = CASE WHEN g.rating_x100 >= 450 THEN 450 WHEN g.rating_x100 >= 400 THEN 400 ELSE 0 END;
END;

CREATE TRIGGER gigs_term_facets_delete AFTER DELETE ON gigs WHEN old.status = 'active' BEGIN
  UPDATE gig_term_facets SET n = n - 1
  WHERE term IN (SELECT w.term FROM gig_words w WHERE w.gig_id = old.id)
    AND category = old.category AND subcategory = COALESCE(old.subcategory, '') AND seller_level = old.seller_level
    AND band = CASE WHEN old.min_price_minor < 2500 THEN 0 WHEN old.min_price_minor < 10000 THEN 1 WHEN old.min_price_minor < 25000 THEN 2 ELSE 3 END
    AND days = old.min_delivery_days AND stars = CASE WHEN old.rating_x100 >= 450 THEN 450 WHEN old.rating_x100 >= 400 THEN 400 ELSE 0 END;
END;

CREATE TRIGGER gigs_term_facets_update_old AFTER UPDATE OF status, category, subcategory, seller_level, min_price_minor, min_delivery_days, rating_x100 ON gigs WHEN old.status = 'active' BEGIN
  UPDATE gig_term_facets SET n = n - 1
  WHERE term IN (SELECT w.term FROM gig_words w WHERE w.gig_id = old.id)
    AND category = old.category AND subcategory = COALESCE(old.subcategory, '') AND seller_level = old.seller_level
    AND band = CASE WHEN old.min_price_minor < 2500 THEN 0 WHEN old.min_price_minor < 10000 THEN 1 WHEN old.min_price_minor < 25000 THEN 2 ELSE 3 END
    AND days = old.min_delivery_days AND stars = CASE WHEN old.rating_x100 >= 450 THEN 450 WHEN old.rating_x100 >= 400 THEN 400 ELSE 0 END;
END;

CREATE TRIGGER gigs_term_facets_update_new AFTER UPDATE OF status, category, subcategory, seller_level, min_price_minor, min_delivery_days, rating_x100 ON gigs WHEN new.status = 'active' BEGIN
  INSERT INTO gig_term_facets (term, category, subcategory, seller_level, band, days, stars, n)
  SELECT w.term, new.category, COALESCE(new.subcategory, ''), new.seller_level,
         CASE WHEN new.min_price_minor < 2500 THEN 0 WHEN new.min_price_minor < 10000 THEN 1 WHEN new.min_price_minor < 25000 THEN 2 ELSE 3 END,
         new.min_delivery_days, CASE WHEN new.rating_x100 >= 450 THEN 450 WHEN new.rating_x100 >= 400 THEN 400 ELSE 0 END, 1
  FROM gig_words w WHERE w.gig_id = new.id
  ON CONFLICT (term, category, subcategory, seller_level, band, days, stars) DO UPDATE SET n = n + 1;
END;

CREATE VIRTUAL TABLE gig_fts_terms USING fts5vocab(gig_fts, instance);
INSERT INTO gig_words (term, gig_id, weight)
SELECT v.term, g.id, MAX(CASE WHEN v.col = 'title' THEN 10 ELSE 0 END) + MAX(CASE WHEN v.col = 'tags' THEN 5 ELSE 0 END)
                     + MAX(CASE WHEN v.col = 'body' THEN 1 ELSE 0 END)
FROM gig_fts_terms v JOIN gigs g ON g.rowid = v.doc GROUP BY v.term, g.id;
