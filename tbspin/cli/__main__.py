"""``python -m tbspin.cli``."""

from .app import main

raise SystemExit(main())
