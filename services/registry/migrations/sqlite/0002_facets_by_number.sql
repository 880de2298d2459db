-- Facets keyed by the activity's number: a filter walks one facet value's activities in
-- page order and stops at the page's end, rather than gathering every match to sort.
CREATE TABLE activity_facets_by_number (
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    number BIGINT NOT NULL,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    PRIMARY KEY (facet, value, number)
) WITHOUT ROWID;
INSERT INTO activity_facets_by_number (facet, value, number, activity_id)
SELECT f.facet, f.value, a.number, f.activity_id
FROM activity_facets f JOIN activities a ON a.id = f.activity_id;
DROP TABLE activity_facets;
ALTER TABLE activity_facets_by_number RENAME TO activity_facets;
CREATE INDEX activity_facets_activity ON activity_facets (activity_id)
