"""``python -m wse_server``: the command-line entry point (see wse_server.cli)."""

from wse_server.cli import main

raise SystemExit(main())
