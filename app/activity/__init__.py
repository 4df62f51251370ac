"""Activity events: captured, ingested into MongoDB, rolled up, reported (the revenue team's analytics)."""
