"""Natural-language understanding: normalisation, the Rasa client, the local classifier."""
