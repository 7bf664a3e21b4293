"""Counterfeit risk: a calibrated score with reasons for every listing, trained on the
platform's own authentication verdicts (see docs/ARCHITECTURE.md, "Counterfeit risk")."""
