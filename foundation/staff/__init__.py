"""Staff identity: accounts, roles and permissions, sign-in sessions and API tokens."""
