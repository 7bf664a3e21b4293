"""Item-not-as-described cases: evidence, returns, refunds and releases via the ledger."""

# Loading the package subscribes its handlers to the marketplace's and authentication's
# events, whichever module is imported first.
from disputes import handlers  # noqa: E402,F401
