"""PostgreSQL: versioned migrations and the registry of MongoDB document models."""
