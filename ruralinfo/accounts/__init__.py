"""Real-name accounts: farmers, liaisons, experts, bureau staff, administrators."""
