"""Variants of a model (recipes on onnxruntime's own tools) and their evaluation.

The package is `variant` (singular): `workbench.variants` is the function that makes them.
"""
