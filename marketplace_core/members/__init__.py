"""Members, their closets and follows, and member sign-in tokens."""
