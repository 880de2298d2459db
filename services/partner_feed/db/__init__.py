"""partner-feed's own SQLite store: imports, partner records, links, the feed view."""
