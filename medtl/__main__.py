"""`python -m medtl ...` runs the `medtl` command (also under torchrun)."""
import sys

from medtl.cli.main import main

sys.exit(main())
