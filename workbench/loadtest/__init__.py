"""Load tests: how much traffic a model takes at a latency bound (`workbench.load_test`)."""
