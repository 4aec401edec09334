"""The Rasa patches, applied by one explicit call at start-up and only on the Rasa they were
written for.

    from nlu_components import patches
    patches.apply()        # deploy.rasa_entry calls it before Rasa's own command line

Each patch (``nlu_components.rasa_speedups``) replaces a private method of Rasa 3.6 with an
equivalent, faster one; tests/nlu/test_rasa_speedups.py proves each gives the same answers.
On another Rasa version the private methods may have changed: nothing is patched and a warning
says so (Rasa then runs as shipped, only slower).

``nlu_components.spacy_nlp.SpacyNLP`` patches nothing: it is a graph component that config.yml
names, registered with Rasa's own ``DefaultV1Recipe.register`` when Rasa loads the model.
"""
from __future__ import annotations

import logging
from importlib import metadata

logger = logging.getLogger(__name__)

SUPPORTED_RASA = "3.6."


def rasa_version() -> str | None:
    try:
        return metadata.version("rasa")
    except metadata.PackageNotFoundError:
        return None


def apply(version: str | None = None) -> bool:
    """Apply every patch when Rasa is 3.6.x; True when they are in place."""
    from nlu_components import rasa_speedups

    version = version or rasa_version()
    if version is None:  # rasa_sdk alone (the action server): nothing to patch
        return False
    if not version.startswith(SUPPORTED_RASA):
        logger.warning("Rasa %s is not %sx: its speed-ups (nlu_components.rasa_speedups) are not applied.",
                       version, SUPPORTED_RASA)
        return False
    rasa_speedups.apply()
    return True
