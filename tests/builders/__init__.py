"""Builders for test data, shared by every test package: plain functions that make members,
listings, orders, cases, staff, tokens and photos through the real services or the public
API, and read rows back in a fresh session.  Fixtures stay in the conftest.py files; a
builder takes the client (or ids) it works on and keyword overrides."""
from __future__ import annotations

API = "/api/v1"
