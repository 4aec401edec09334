"""Custom Rasa input/output channels of the town hall's assistant."""
