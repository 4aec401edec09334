"""Custom Rasa NLU components of the town-hall assistant (referenced from config.yml)."""
