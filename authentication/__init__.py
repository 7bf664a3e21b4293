"""Posh Authenticate: staff review of every listing priced over the threshold."""
