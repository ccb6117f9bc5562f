-- Facet counts of active gigs kept by trigger, so a search without words
-- (browsing, filters only) counts its facets from a few hundred cells
-- instead of aggregating every active gig on each request. One cell per
-- (category, subcategory ('' for none), seller level, price band, delivery
-- days, stars); bands and stars as products/gigstream/store/src/search.rs
-- has them (PriceBand::bounds, RATINGS). `gigstream check` compares the
-- cells with a fresh count.
-- Browsing by rating walks this index instead of sorting every active gig
-- (the search orders by COALESCE(g.rating_x100, -1) DESC, g.id DESC).
CREATE INDEX idx_gigs_rating ON gigs (status, (COALESCE(rating_x100, -1)) DESC, id DESC);

CREATE TABLE gig_facets (
  category TEXT NOT NULL,
  subcategory TEXT NOT NULL,
  seller_level TEXT NOT NULL,
  band INTEGER NOT NULL,
  days INTEGER NOT NULL,
  stars INTEGER NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (category, subcategory, seller_level, band, days, stars)
);

CREATE FUNCTION gig_price_band(p BIGINT) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p < 2500 THEN 0 WHEN p < 10000 THEN 1 WHEN p < 25000 THEN 2 ELSE 3 END
$$;
CREATE FUNCTION gig_stars(r INTEGER) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN r >= 450 THEN 450 WHEN r >= 400 THEN 400 ELSE 0 END
$$;

CREATE FUNCTION gig_facets_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active' THEN
    UPDATE gig_facets SET n = n - 1
    WHERE category = OLD.category AND subcategory = COALESCE(OLD.subcategory, '') AND seller_level = OLD.seller_level
      AND band = gig_price_band(OLD.min_price_minor) AND days = OLD.min_delivery_days AND stars = gig_stars(OLD.rating_x100);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'active' THEN
    INSERT INTO gig_facets (category, subcategory, seller_level, band, days, stars, n)
    VALUES (NEW.category, COALESCE(NEW.subcategory, ''), NEW.seller_level, gig_price_band(NEW.min_price_minor),
            NEW.min_delivery_days, gig_stars(NEW.rating_x100), 1)
    ON CONFLICT (category, subcategory, seller_level, band, days, stars) DO UPDATE SET n = gig_facets.n + 1;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER gigs_facets AFTER INSERT OR DELETE
  OR UPDATE OF status, category, subcategory, seller_level, min_price_minor, min_delivery_days, rating_x100 ON gigs
  FOR EACH ROW EXECUTE FUNCTION gig_facets_count();

INSERT INTO gig_facets (category, subcategory, seller_level, band, days, stars, n)
SELECT category, COALESCE(subcategory, ''), seller_level, gig_price_band(min_price_minor), min_delivery_days, gig_stars(rating_x100), COUNT(*)
FROM gigs WHERE status = 'active' GROUP BY 1, 2, 3, 4, 5, 6;
