"""Rendering: templates, the mixin that makes results display themselves, report files."""
