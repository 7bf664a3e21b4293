"""Shared infrastructure every domain package builds on.

Configuration, the database session and unit of work, the clock, domain errors,
background jobs, staff identity and the audit trail.  Nothing here knows about
listings, authentication, disputes or vision; they all depend on it.
"""
