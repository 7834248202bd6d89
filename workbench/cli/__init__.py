"""The `onnx-workbench` command line.

One module per subcommand, each a thin shell over the public API; `flags.py` holds the flags
it shares with the `%onnx` magics; `main.py` the entry point.
"""
