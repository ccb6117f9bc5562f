-- Facet counts of active gigs kept by triggers, so a search without words
-- (browsing, filters only) counts its facets from a few hundred cells
-- instead of aggregating every active gig on each request; the same table
-- as PostgreSQL's 1081 (bands and stars as products/gigstream/store/src/search.rs
-- has them: PriceBand::bounds, RATINGS). `gigstream check` compares the
-- cells with a fresh count.
-- Browsing by rating walks this index instead of sorting every active gig
-- (the search orders by COALESCE(g.rating_x100, -1) DESC, g.id DESC).
CREATE INDEX idx_gigs_rating ON gigs (status, COALESCE(rating_x100, -1) DESC, id DESC);

CREATE TABLE gig_facets (
  category TEXT NOT NULL,
  subcategory TEXT NOT NULL,
  seller_level TEXT NOT NULL,
  band INTEGER NOT NULL,
  days INTEGER NOT NULL,
  stars INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (category, subcategory, seller_level, band, days, stars)
) WITHOUT ROWID;

CREATE TRIGGER gigs_facets_insert AFTER INSERT ON gigs WHEN new.status = 'active' BEGIN
  INSERT INTO gig_facets (category, subcategory, seller_level, band, days, stars, n)
  VALUES (new.category, COALESCE(new.subcategory, ''), new.seller_level,
          CASE WHEN new.min_price_minor < 2500 THEN 0 WHEN new.min_price_minor < 10000 THEN 1 WHEN new.min_price_minor < 25000 THEN 2 ELSE 3 END,
          new.min_delivery_days, CASE WHEN new.rating_x100 >= 450 THEN 450 WHEN new.rating_x100 >= 400 THEN 400 ELSE 0 END, 1)
  ON CONFLICT (category, subcategory, seller_level, band, days, stars) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER gigs_facets_delete AFTER DELETE ON gigs WHEN old.status = 'active' BEGIN
  UPDATE gig_facets SET n = n - 1
  WHERE category = old.category AND subcategory = COALESCE(old.subcategory, '') AND seller_level = old.seller_level
    AND band = CASE WHEN old.min_price_minor < 2500 THEN 0 WHEN old.min_price_minor < 10000 THEN 1 WHEN old.min_price_minor < 25000 THEN 2 ELSE 3 END
    AND days = old.min_delivery_days AND stars = CASE WHEN old.rating_x100 >= 450 THEN 450 WHEN old.rating_x100 >= 400 THEN 400 ELSE 0 END;
END;

CREATE TRIGGER gigs_facets_update_old AFTER UPDATE OF status, category, subcategory, seller_level, min_price_minor, min_delivery_days, rating_x100 ON gigs WHEN old.status = 'active' BEGIN
  UPDATE gig_facets SET n = n - 1
  WHERE category = old.category AND subcategory = COALESCE(old.subcategory, '') AND seller_level = old.seller_level
    AND band = CASE WHEN old.min_price_minor < 2500 THEN 0 WHEN old.min_price_minor < 10000 THEN 1 WHEN old.min_price_minor < 25000 THEN 2 ELSE 3 END
    AND days = old.min_delivery_days AND stars = CASE WHEN old.rating_x100 >= 450 THEN 450 WHEN old.rating_x100 >= 400 THEN 400 ELSE 0 END;
END;

CREATE TRIGGER gigs_facets_update_new AFTER UPDATE OF status, category, subcategory, seller_level, min_price_minor, min_delivery_days, rating_x100 ON gigs WHEN new.status = 'active' BEGIN
  INSERT INTO gig_facets (category, subcategory, seller_level, band, days, stars, n)
  VALUES (new.category, COALESCE(new.subcategory, ''), new.seller_level,
          CASE WHEN new.min_price_minor < 2500 THEN 0 WHEN new.min_price_minor < 10000 THEN 1 WHEN new.min_price_minor < 25000 THEN 2 ELSE 3 END,
          new.min_delivery_days, CASE WHEN new.rating_x100 >= 450 THEN 450 WHEN new.rating_x100 >= 400 THEN 400 ELSE 0 END, 1)
  ON CONFLICT (category, subcategory, seller_level, band, days, stars) DO UPDATE SET n = n + 1;
END;

INSERT INTO gig_facets (category, subcategory, seller_level, band, days, stars, n)
SELECT g.category, COALESCE(g.subcategory, ''), g.seller_level, CASE WHEN g.min_price_minor < 2500 THEN 0 WHEN g.min_price_minor < 10000 THEN 1 WHEN g.min_price_minor < 25000 THEN 2 ELSE 3 END, g.min_delivery_days, CASE WHEN g.rating_x100 >= 450 THEN 450 WHEN g.rating_x100 >= 400 THEN 400 ELSE 0 END, COUNT(*)
FROM gigs g WHERE g.status = 'active' GROUP BY 1, 2, 3, 4, 5, 6;
