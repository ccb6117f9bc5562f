-- The facet cells of 1081 were kept by updating a cell row in each gig's
-- own transaction: a gig moving from cell P to cell Q locked P then Q, one
-- moving back locked Q then P, so two such transactions could wait on each
-- other in a cycle (and every change in a busy cell queued on its row).
-- Now a gig's change only appends its -1 and +1 to `gig_facet_deltas`
-- (no shared row is locked), a change that keeps the gig in its cell
-- writes nothing, and the `fold-facets` job adds the deltas into the cells
-- in key order. Reads add cells and deltas (search.rs `KEPT_CELLS`).
CREATE TABLE gig_facet_deltas (
  id BIGSERIAL PRIMARY KEY,
  category TEXT NOT NULL,
  subcategory TEXT NOT NULL,
  seller_level TEXT NOT NULL,
  band INTEGER NOT NULL,
  days INTEGER NOT NULL,
  stars INTEGER NOT NULL,
  n INTEGER NOT NULL
);

CREATE OR REPLACE FUNCTION gig_facets_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was_active BOOLEAN := TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active';
  is_active BOOLEAN := TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'active';
BEGIN
  IF was_active AND is_active
     AND OLD.category = NEW.category AND COALESCE(OLD.subcategory, '') = COALESCE(NEW.subcategory, '')
     AND OLD.seller_level = NEW.seller_level AND gig_price_band(OLD.min_price_minor) = gig_price_band(NEW.min_price_minor)
     AND OLD.min_delivery_days = NEW.min_delivery_days AND gig_stars(OLD.rating_x100) = gig_stars(NEW.rating_x100) THEN
    RETURN NULL;
  END IF;
  IF was_active THEN
    INSERT INTO gig_facet_deltas (category, subcategory, seller_level, band, days, stars, n)
    VALUES (OLD.category, COALESCE(OLD.subcategory, ''), OLD.seller_level, gig_price_band(OLD.min_price_minor),
            OLD.min_delivery_days, gig_stars(OLD.rating_x100), -1);
  END IF;
  IF is_active THEN
    INSERT INTO gig_facet_deltas (category, subcategory, seller_level, band, days, stars, n)
    VALUES (NEW.category, COALESCE(NEW.subcategory, ''), NEW.seller_level, gig_price_band(NEW.min_price_minor),
            NEW.min_delivery_days, gig_stars(NEW.rating_x100), 1);
  END IF;
  RETURN NULL;
END
$$;
