"""marketplace_core.shipping (being built)."""
