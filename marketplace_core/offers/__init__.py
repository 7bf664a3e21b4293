"""marketplace_core.offers (being built)."""
