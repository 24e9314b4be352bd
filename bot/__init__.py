"""Safe-migration Telegram bot for Nusa Tenggara Timur."""
