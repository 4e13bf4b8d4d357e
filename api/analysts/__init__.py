"""Analyst access of a tenant: SQL logins on its marts and snapshots of them."""
