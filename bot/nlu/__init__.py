"""Natural-language understanding: normalisation, the Rasa client, the local fallback matcher."""
