"""Product search: ``GET /search`` over the Elasticsearch index the projector maintains."""
