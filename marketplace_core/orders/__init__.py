"""marketplace_core.orders (being built)."""
