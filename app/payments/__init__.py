"""Payments: one small port (``port``) the app talks to, its adapter for the Stripe API
(``stripe_provider``, the official SDK), and the sandbox provider that answers it locally (``sandbox``)."""
