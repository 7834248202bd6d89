"""Running a model: one run's result, comparisons across providers, per-operator profiles."""
