"""Whop: the fake API v1, the sync over HTTP, and the signed webhook receiver."""
