"""Idempotency keys for every unsafe booking call: rules (``keys``), records (``store``), routes (``http``)."""
