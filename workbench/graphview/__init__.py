"""The embedded graph view: Netron served by the Jupyter server, with fallbacks."""
