"""Staff accounts: users, roles, hashed passwords."""
