"""The append-only audit log of every write, by any user or channel."""
