"""Results over time: every result in a SQLite store, trends and changes, a CI gate.

`workbench.history()` (query.py) is the public entry; the package is not called `history`
so that name stays the function's.
"""
