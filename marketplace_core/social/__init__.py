"""marketplace_core.social: likes, comments, shares, Posh Parties, the following feed and
in-app notifications."""
