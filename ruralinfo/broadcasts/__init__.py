"""Broadcasts of agricultural notices: composing, planning recipients, sending at a
rate every worker shares, and what became of every text."""
