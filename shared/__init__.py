"""Tournées' own shared package: event contracts, settings, database and messaging plumbing."""
