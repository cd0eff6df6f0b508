"""The farmers' mailbox (农民信箱): letters, supply and demand posts, matching, SMS commands."""
