"""Channel-neutral dialogue: messages in, replies out, state in the database."""
