"""The SMS channel: the outbox, gateways (outbox, twilio, …), webhooks, the
command registry that feature packages plug their SMS commands into."""
