"""Entry point of every Argo pod: ``python -m conveyor.runtime.pod ...`` (see the package docstring)."""

from conveyor.runtime.pod import main

raise SystemExit(main())
