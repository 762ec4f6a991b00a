"""Rules and transactions. Functions take the database session, the vault and
the acting user as arguments; nothing here touches Flask's request or `g`."""
