"""marketplace_core.social: likes, comments, shares, Posh Parties, the following feed and
in-app notifications.

Importing any part of the package registers its event handlers, so the app, workers
and scripts (which all load the models) react to price drops and new followers.
"""
from marketplace_core.social import handlers  # noqa: F401
