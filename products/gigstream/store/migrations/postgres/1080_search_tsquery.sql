-- Search matches the gigs' own search_vector against the query's tsquery
-- (FROM gigs g CROSS JOIN gig_tsquery($1) AS tq(q) WHERE g.search_vector @@ tq.q),
-- instead of joining gig_fts back to gigs, which fetched every match twice
-- (once through the GIN index, again by primary key). q is FTS5-style, as
-- for gig_fts: words, each ending in * for a prefix match.
CREATE FUNCTION gig_tsquery(q TEXT) RETURNS tsquery LANGUAGE sql STABLE AS $$
  SELECT to_tsquery('simple', array_to_string(ARRAY(
    SELECT regexp_replace(t, '\*$', ':*') FROM regexp_split_to_table(trim(q), '\s+') t WHERE t <> ''), ' & '))
$$;
