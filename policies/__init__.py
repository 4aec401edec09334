"""Dialogue policies of our own (Rasa graph components)."""
