"""The polyglot product catalogue."""

ROUTES: list = []
