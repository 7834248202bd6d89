"""Feeds for a model's inputs.

Synthetic ones from the signature, the user's own validated, and feeds and expected outputs
read from files.
"""
