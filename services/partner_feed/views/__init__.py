"""partner-feed's HTTP views: imports, outbound feeds, partner reports."""
