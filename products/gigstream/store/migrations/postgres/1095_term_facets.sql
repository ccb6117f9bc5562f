-- Per-term search summaries, so a one-word search costs the same whether
-- the word is rare or in every tenth gig (migrations 1080-1082 grouped all
-- of a word's matches on every search: "logo", 7,699 matches, 34 ms for
-- the facets and 47 ms for the ranked page under load).
--
-- gig_words: one row per (term, gig) for every term of the gig's
-- search_vector (the lexemes exactly as the tsvector has them, so a word
-- query matches the same gigs either way), with a weight by where the term
-- is: 10 in the title, + 5 in the tags, + 1 in the description. The index
-- (term, weight DESC, gig_id) makes a one-word search's best-first page a
-- range read. Kept by the trigger below from the gig's own search_vector.
CREATE TABLE gig_words (
  term TEXT COLLATE "C" NOT NULL,
  gig_id UUID NOT NULL,
  weight INTEGER NOT NULL,
  PRIMARY KEY (term, gig_id)
);
CREATE INDEX idx_gig_words_rank ON gig_words (term, weight DESC, gig_id);

-- gig_term_facets: for each term, the facet cells (as gig_facets has them)
-- of the active gigs holding it, with their counts; a one-word search reads
-- its term's cells instead of grouping its matches. As for gig_facets
-- (migration 1082) the trigger never updates a shared row: it appends -1
-- and +1 rows to gig_term_facet_deltas, the fold-facets job folds them in
-- key order, and reads add cells and deltas. `gigstream check` compares the
-- cells with a fresh count and gig_words with the gigs' search_vectors.
CREATE TABLE gig_term_facets (
  term TEXT COLLATE "C" NOT NULL,
  category TEXT NOT NULL,
  subcategory TEXT NOT NULL,
  seller_level TEXT NOT NULL,
  band INTEGER NOT NULL,
  days INTEGER NOT NULL,
  stars INTEGER NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (term, category, subcategory, seller_level, band, days, stars)
);
CREATE TABLE gig_term_facet_deltas (
  id BIGSERIAL PRIMARY KEY,
  term TEXT COLLATE "C" NOT NULL,
  category TEXT NOT NULL,
  subcategory TEXT NOT NULL,
  seller_level TEXT NOT NULL,
  band INTEGER NOT NULL,
  days INTEGER NOT NULL,
  stars INTEGER NOT NULL,
  n INTEGER NOT NULL
);
CREATE INDEX idx_gig_term_facet_deltas_term ON gig_term_facet_deltas (term);

CREATE FUNCTION gig_word_weight(w TEXT[]) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN 'A' = ANY(w) THEN 10 ELSE 0 END + CASE WHEN 'B' = ANY(w) THEN 5 ELSE 0 END
       + CASE WHEN 'C' = ANY(w) THEN 1 ELSE 0 END
$$;

CREATE FUNCTION gig_words_keep() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  had_words BOOLEAN := TG_OP IN ('UPDATE', 'DELETE');
  has_words BOOLEAN := TG_OP IN ('INSERT', 'UPDATE');
  was_active BOOLEAN := TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active';
  is_active BOOLEAN := TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'active';
  same_words BOOLEAN := TG_OP = 'UPDATE' AND OLD.search_vector = NEW.search_vector;
BEGIN
  IF NOT same_words THEN
    IF had_words THEN
      DELETE FROM gig_words WHERE gig_id = OLD.id AND term IN (SELECT lexeme FROM unnest(OLD.search_vector));
    END IF;
    IF has_words THEN
      INSERT INTO gig_words (term, gig_id, weight)
      SELECT lexeme, NEW.id, gig_word_weight(weights) FROM unnest(NEW.search_vector);
    END IF;
  END IF;
  IF was_active AND is_active AND same_words
     AND OLD.category = NEW.category AND COALESCE(OLD.subcategory, '') = COALESCE(NEW.subcategory, '')
     AND OLD.seller_level = NEW.seller_level AND gig_price_band(OLD.min_price_minor) = gig_price_band(NEW.min_price_minor)
     AND OLD.min_delivery_days = NEW.min_delivery_days AND gig_stars(OLD.rating_x100) = gig_stars(NEW.rating_x100) THEN
    RETURN NULL;
  END IF;
  IF was_active THEN
    INSERT INTO gig_term_facet_deltas (term, category, subcategory, seller_level, band, days, stars, n)
    SELECT lexeme, OLD.category, COALESCE(OLD.subcategory, ''), OLD.seller_level, gig_price_band(OLD.min_price_minor),
           OLD.min_delivery_days, gig_stars(OLD.rating_x100), -1
    FROM unnest(OLD.search_vector);
  END IF;
  IF is_active THEN
    INSERT INTO gig_term_facet_deltas (term, category, subcategory, seller_level, band, days, stars, n)
    SELECT lexeme, NEW.category, COALESCE(NEW.subcategory, ''), NEW.seller_level, gig_price_band(NEW.min_price_minor),
           NEW.min_delivery_days, gig_stars(NEW.rating_x100), 1
    FROM unnest(NEW.search_vector);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER gigs_words AFTER INSERT OR DELETE
  OR UPDATE OF status, category, subcategory, seller_level, min_price_minor, min_delivery_days, rating_x100,
               title, tags_text, description_text ON gigs
  FOR EACH ROW EXECUTE FUNCTION gig_words_keep();

INSERT INTO gig_words (term, gig_id, weight)
SELECT t.lexeme, g.id, gig_word_weight(t.weights) FROM gigs g CROSS JOIN unnest(g.search_vector) t;
INSERT INTO gig_term_facets (term, category, subcategory, seller_level, band, days, stars, n)
SELECT t.lexeme, g.category, COALESCE(g.subcategory, ''), g.seller_level, gig_price_band(g.min_price_minor),
       g.min_delivery_days, gig_stars(g.rating_x100), COUNT(*)
FROM gigs g CROSS JOIN unnest(g.search_vector) t WHERE g.status = 'active' GROUP BY 1, 2, 3, 4, 5, 6, 7;
