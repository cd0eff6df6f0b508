"""Simulators for trying the product and training liaisons (only with the outbox SMS backend)."""
