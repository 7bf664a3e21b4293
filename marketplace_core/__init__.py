"""The marketplace: members and closets, listings, social, offers, orders, shipping,
the ledger and payouts, and the public JSON API the apps use.

It builds on `foundation` only; it knows nothing of authentication, disputes,
vision or the console, which build on it.
"""
