"""ONNX Runtime, and what the workbench builds on it.

Importing it, providers and the doctor, sessions and their cache, tensors of every element
type, native output capture, the machine, and the profiler's output.
"""
