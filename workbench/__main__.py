"""`python -m workbench` runs the `onnx-workbench` command line."""

from workbench.cli import main

raise SystemExit(main())
