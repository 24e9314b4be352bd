"""Channels translate between a transport and the dialogue engine; they never decide."""
