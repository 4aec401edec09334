"""Custom Rasa NLU components of the town-hall assistant (referenced from config.yml).

Importing the package patches nothing: the Rasa speed-ups are applied by one explicit call,
``nlu_components.patches.apply()``, which deploy.rasa_entry makes at start-up.
"""
