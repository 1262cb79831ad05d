"""ADT workflows, one module per user action: `profiles` (shipped profile versions, the active
one), `edit` (validate, template, the table editor's Save), `anchors` (file-signing trust
anchors), `identity` (which key and credential may sign), `sign` (sign a file and its
manifest), `outputs` (the output set: overwrite rule, interrupted sets), `verify`,
`sro_confirm` (the SRO's signed confirmation), `delivery` (the delivery package) and
`file_history` (a file's events, the signed files). Modules are not named after the functions
they hold (`confirm`, `deliver`, `history`), so `adt.confirm` is always the function.

Signing rules: the key must be a `file-signing` key of this environment with a valid
file-signing credential (`services.credentials`), never a key that holds (or asked for) an
Organisation Certificate; when the environment has trust anchors the credential must chain to
one (Live always needs them). Every signature is verified at once by the independent code path
of `crypto.cms.verify_detached`. Outputs are written all-or-nothing and never replace a file
unless told to.

This package re-exports the entry points the faces and tests use, each loaded on first use
(PEP 562): `smki adt verify` then imports the verification's modules only, not the signing
identity's, the delivery's or the editor's (issue 15: each `smki` command is a process of its
own, and its imports are most of its time).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smki_desktop.services.adt.anchors import (
        add_trust_anchor,
        ca_pool,
        trust_anchors,
    )
    from smki_desktop.services.adt.common import (
        MANIFEST_SUFFIX,
        MAX_VALIDATE_BYTES,
        SIG_SUFFIX,
        Written,
        default_paths,
        open_limited,
        read_limited,
        signing_now,
    )
    from smki_desktop.services.adt.delivery import (
        DeliveryResult,
        default_package,
        deliver,
    )
    from smki_desktop.services.adt.edit import (
        save_edited,
        template_bytes,
        validate_bytes,
        validate_file,
        validate_file_hashed,
        write_template,
    )
    from smki_desktop.services.adt.file_history import (
        as_json,
        history,
        signed_files,
    )
    from smki_desktop.services.adt.identity import (
        SigningIdentity,
        open_signer,
        signing_identity,
    )
    from smki_desktop.services.adt.outputs import (
        check_sign_outputs,
        interrupted_leftovers,
        outputs_in_the_way,
        same_file,
    )
    from smki_desktop.services.adt.profiles import (
        active_profile,
        load_profile,
        party_ranges,
        profile_versions,
        use_profile,
    )
    from smki_desktop.services.adt.sign import (
        SignResult,
        sign_file,
    )
    from smki_desktop.services.adt.sro_confirm import (
        ConfirmResult,
        confirm,
    )
    from smki_desktop.services.adt.verify import (
        VerifyResult,
        verify_file,
    )

# each name this package re-exports, and the module of the package that defines it
_WHERE = {
    "ConfirmResult": "sro_confirm",
    "DeliveryResult": "delivery",
    "MANIFEST_SUFFIX": "common",
    "MAX_VALIDATE_BYTES": "common",
    "SIG_SUFFIX": "common",
    "SignResult": "sign",
    "SigningIdentity": "identity",
    "VerifyResult": "verify",
    "Written": "common",
    "active_profile": "profiles",
    "add_trust_anchor": "anchors",
    "as_json": "file_history",
    "ca_pool": "anchors",
    "check_sign_outputs": "outputs",
    "confirm": "sro_confirm",
    "default_package": "delivery",
    "default_paths": "common",
    "deliver": "delivery",
    "history": "file_history",
    "interrupted_leftovers": "outputs",
    "load_profile": "profiles",
    "open_limited": "common",
    "open_signer": "identity",
    "outputs_in_the_way": "outputs",
    "party_ranges": "profiles",
    "profile_versions": "profiles",
    "read_limited": "common",
    "same_file": "outputs",
    "save_edited": "edit",
    "sign_file": "sign",
    "signed_files": "file_history",
    "signing_identity": "identity",
    "signing_now": "common",
    "template_bytes": "edit",
    "trust_anchors": "anchors",
    "use_profile": "profiles",
    "validate_bytes": "edit",
    "validate_file": "edit",
    "validate_file_hashed": "edit",
    "verify_file": "verify",
    "write_template": "edit",
}

__all__ = [
    "MANIFEST_SUFFIX",
    "MAX_VALIDATE_BYTES",
    "SIG_SUFFIX",
    "ConfirmResult",
    "DeliveryResult",
    "SignResult",
    "SigningIdentity",
    "VerifyResult",
    "Written",
    "active_profile",
    "add_trust_anchor",
    "as_json",
    "ca_pool",
    "check_sign_outputs",
    "confirm",
    "default_package",
    "default_paths",
    "deliver",
    "history",
    "interrupted_leftovers",
    "load_profile",
    "open_limited",
    "open_signer",
    "outputs_in_the_way",
    "party_ranges",
    "profile_versions",
    "read_limited",
    "same_file",
    "save_edited",
    "sign_file",
    "signed_files",
    "signing_identity",
    "signing_now",
    "template_bytes",
    "trust_anchors",
    "use_profile",
    "validate_bytes",
    "validate_file",
    "validate_file_hashed",
    "verify_file",
    "write_template",
]


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later uses do not come here again
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
