"""Tests of the results history (workbench/tracking)."""
