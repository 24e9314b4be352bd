"""The agency (P3MI) registry service: name normalisation, file import, seed data, matching."""
