"""The audit trail: an append-only record of every staff action that changes state."""
