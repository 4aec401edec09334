"""Custom Rasa NLU components of the town-hall assistant (referenced from config.yml).

Importing the package also applies rasa_speedups (an equivalent, faster check of action
server responses) in the Rasa server that loads the model.
"""
from nlu_components import rasa_speedups

rasa_speedups.apply()
