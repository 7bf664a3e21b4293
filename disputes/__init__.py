"""Item-not-as-described cases: evidence, returns, refunds and releases via the ledger."""
