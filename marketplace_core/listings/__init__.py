"""Listings: the catalogue taxonomy, states, photos, price history, search."""
