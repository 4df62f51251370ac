"""Single sign-on, sessions, tokens and the gateway that checks every request."""

ROUTES: list = []
