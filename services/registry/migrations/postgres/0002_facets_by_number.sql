-- Facets keyed by the activity's number: a filter walks one facet value's activities in
-- page order and stops at the page's end, rather than gathering every match to sort.
ALTER TABLE activity_facets ADD COLUMN number BIGINT;
UPDATE activity_facets f SET number = a.number FROM activities a WHERE a.id = f.activity_id;
ALTER TABLE activity_facets ALTER COLUMN number SET NOT NULL;
ALTER TABLE activity_facets DROP CONSTRAINT activity_facets_pkey;
ALTER TABLE activity_facets ADD PRIMARY KEY (facet, value, number)
