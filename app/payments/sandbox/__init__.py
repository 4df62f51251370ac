"""The sandbox payment provider: a small Stripe-compatible HTTP server with its own durable ledger.

It is the provider the local stack and the tests talk to (``resort up`` starts it like every other
server): the app reaches it through the official ``stripe`` SDK pointed at it, exactly as it would reach
Stripe. Test cards (the ``payment_method`` a client sends) choose its behaviour; see ``cards``.
"""
