"""Whether the welcome (the first-run set-up and walk) is due when the window opens: once per
environment, on a start with neither a Party nor an officer profile. Kept apart from
`services/first_run.py` (the walk itself, which loads the simulator and ADT code) so that
opening the window stays light."""

from __future__ import annotations

from smki_desktop.services.context import AppContext

SETTING_WELCOME_SHOWN = "first_run_seen"


def take_welcome(ctx: AppContext) -> bool:
    """True when the welcome is due, and note it as shown (afterwards it opens only from
    Help > Welcome and first steps)."""
    if ctx.party() is not None or ctx.officer() is not None \
            or ctx.setting(SETTING_WELCOME_SHOWN) is not None:
        return False
    ctx.set_setting(SETTING_WELCOME_SHOWN, "1")
    return True
