"""Reading a file someone else handed us (a bundle carried on a removable drive), bounded: the
file is opened without blocking and checked to be a regular file before any read (a FIFO would
block forever, a device such as /dev/zero never ends), at most `limit` bytes are read (a larger
file is refused without reading it all), and, where asked, a symbolic link is refused rather
than followed (a link inside a bundle can point anywhere on the machine that reads it).

The same pattern as `services/key_backup._read_small`, shared here for the offline bundles
(`portal/offline.py`); every failure is an `InputError` naming the file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from smki_desktop.core.errors import InputError


def _size_text(limit: int) -> str:
    if limit >= 1 << 20:
        return f"{limit >> 20} MiB"
    return f"{max(1, limit >> 10)} KiB"


def read_regular(path: Path, limit: int, what: str, *, follow_links: bool = True) -> bytes:
    """The bytes of the regular file `path` (at most `limit`), or an InputError naming it and
    why it is not `what` (missing, a link when `follow_links` is False, not a regular file,
    too large, unreadable)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        if path.is_symlink():
            raise InputError(f"{path}: a symbolic link, not {what}; a bundle's files are "
                             "read only as regular files inside it.")
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read as {what} ({exc.strerror or exc}).") \
            from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
            raise InputError(f"{path}: not a regular file ({kind}), so not {what}.")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read as {what} ({exc.strerror or exc}).") \
            from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:
        raise InputError(f"{path}: larger than {_size_text(limit)}, the limit for {what}; "
                         "not read.")
    return data
