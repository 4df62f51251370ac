"""G Resort backend: the api app and the shared plumbing of every process role."""
