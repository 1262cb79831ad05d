"""`python -m smki_desktop` opens the GUI."""

from smki_desktop.gui.app import main

raise SystemExit(main())
