"""The separate admin view: liaison points, accounts, interest groups, regions, audit log."""
