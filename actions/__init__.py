"""Rasa custom actions: thin adapters from the tracker to the ``townhall`` core and back."""
