"""Pure-Python domain core: no Qt, no network, no disk, no cryptography I/O."""
