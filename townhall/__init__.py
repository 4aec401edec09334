"""The town's domain, independent of Rasa: knowledge, booking, incidents, privacy.

Actions (``actions/``) and the back office (``backoffice/``) are thin adapters that call
the functions of this package.
"""
