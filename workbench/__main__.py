"""`python -m workbench` runs the `onnx-workbench` command line."""

from workbench.cli.main import main

raise SystemExit(main())
