"""`python -m smki_desktop.cli` runs the `smki` command line."""

from smki_desktop.cli.start import main

raise SystemExit(main())
