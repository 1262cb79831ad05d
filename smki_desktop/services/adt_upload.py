"""The one way from the ADT delivery to the portal layer: hand a signed package to
`services.portal.upload_adt_package`.

The portal layer (httpx, the Web Services client, the batch formats) is loaded here when a
package is actually sent, not when `services.adt` is imported: `smki adt sign` and `smki adt
verify` are separate processes that never send, and that import is about half of their
start-up."""

from __future__ import annotations

from smki_desktop.services.context import AppContext


def upload_adt_package(ctx: AppContext, name: str, data: bytes) -> tuple[str, str]:
    """Deliver a signed ADT package through the portal layer -> (where, reference); its
    refusals (Live, a configured endpoint: the DCC's SharePoint) pass through unchanged."""
    from smki_desktop.services import portal

    return portal.upload_adt_package(ctx, name, data)
