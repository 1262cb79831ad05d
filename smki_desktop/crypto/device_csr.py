"""Device CSRs at scale: fast parse + profile check + signature check, and fast generation.

Device CSR profile (reference section 4): PKCS#10 v0, EMPTY subject, EC P-256 key (uncompressed
point), signed ecdsa-with-SHA256; one requested-extensions attribute holding exactly
keyUsage (critical, exactly one of digitalSignature / keyAgreement) and subjectAltName
(critical) with one otherName hardwareModuleName (1.3.6.1.5.5.7.8.4) = SEQUENCE { hwType OID,
hwSerialNum OCTET STRING of the 8-octet device EUI-64 }.

Speed: checking one CSR costs one `cryptography` parse (Rust) plus one ECDSA verification; the
profile checks are a few attribute reads. `check_many` spreads chunks over worker processes
(one per core, `spawn` so it is safe from GUI threads) and reports progress and honours
cancellation between chunks. Generation builds the To-Be-Signed bytes from a template (only the
public point and the EUI change) and signs them: cheaper than `CertificateSigningRequestBuilder`.

Results cross process boundaries as plain tuples (`CheckTuple`, `GenTuple`) to keep pickling
cheap for 50,000 items.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import get_context
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.core import errors
from smki_desktop.core.ports import NullProgress, ProgressSink

HMN_OID = "1.3.6.1.5.5.7.8.4"
TEST_HW_TYPE = "1.2.826.0.1.8641679.1.2.2.1"
SIGNING = "signing"
KEY_AGREEMENT = "key-agreement"
USAGES = (SIGNING, KEY_AGREEMENT)
USAGE_SHORT = {SIGNING: "ds", KEY_AGREEMENT: "ka"}

_ECDSA_SHA256_OID = x509.ObjectIdentifier("1.2.840.10045.4.3.2")
_P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
_ALG_ID = bytes.fromhex("300a06082a8648ce3d040302")
_EXT_REQ_OID = bytes.fromhex("06092a864886f70d01090e")
_KU_DS = bytes.fromhex("300e0603551d0f0101ff0404030207" "80")
_KU_KA = bytes.fromhex("300e0603551d0f0101ff0404030203" "08")
_HMN = x509.ObjectIdentifier(HMN_OID)
_HMN_DER = bytes.fromhex("06082b06010505070804")

CheckTuple = tuple[str, str, bytes, str, str, str]
"""(code, reason, eui, usage, key_id, hw_type); code "" means valid."""
GenTuple = tuple[bytes, str, bytes, bytes]
"""(eui, usage, csr_der, private key PKCS#8 DER or b"")."""


# --- DER helpers ---------------------------------------------------------------------------------


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _len(len(content)) + content


@lru_cache(maxsize=64)
def oid_der(dotted: str) -> bytes:
    """DER of an OBJECT IDENTIFIER (tag and length included)."""
    arcs = [int(a) for a in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2:
        raise ValueError(f"{dotted!r} is not an OID")
    body = bytearray()
    for value in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        body += bytes(reversed(chunk))
    return _tlv(0x06, bytes(body))


def oid_text(content: bytes) -> str:
    """Dotted text of an OID's content octets (for messages)."""
    arcs: list[int] = []
    value = 0
    for b in content:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return "?"
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def _read_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at pos; raises ValueError."""
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 3 or pos + k > len(data):
            raise ValueError("bad length")
        n = int.from_bytes(data[pos : pos + k], "big")
        pos += k
    if pos + n > len(data):
        raise ValueError("truncated")
    return tag, pos, pos + n


def parse_hardware_module_name(value: bytes) -> tuple[bytes, bytes]:
    """(hwType OID content octets, hwSerialNum) from the DER SEQUENCE of a HardwareModuleName."""
    tag, start, end = _read_tlv(value, 0)
    if tag != 0x30 or end != len(value):
        raise ValueError("HardwareModuleName is not one SEQUENCE")
    tag, o_start, o_end = _read_tlv(value, start)
    if tag != 0x06:
        raise ValueError("hwType is not an OID")
    tag, s_start, s_end = _read_tlv(value, o_end)
    if tag != 0x04:
        raise ValueError("hwSerialNum is not an OCTET STRING")
    if s_end != end:
        raise ValueError("HardwareModuleName has extra fields")
    return value[o_start:o_end], value[s_start:s_end]


def spki_for_point(point: bytes) -> bytes:
    return _P256_SPKI_PREFIX + point


def key_id_for_point(point: bytes) -> str:
    """The project's key id (SHA-256 of the SubjectPublicKeyInfo DER) of a P-256 point."""
    return hashlib.sha256(_P256_SPKI_PREFIX + point).hexdigest()


def key_id_of_public_key(key: ec.EllipticCurvePublicKey) -> str:
    return key_id_for_point(
        key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


# --- Checking ------------------------------------------------------------------------------------


def check_device_csr(der: bytes, hw_types: Iterable[str], verify: bool = True) -> CheckTuple:
    """Check one Device CSR against the profile and its signature.

    Returns (code, reason, eui, usage, key_id, hw_type): `code` is "" when the CSR is valid,
    otherwise a short rule name (parse, version, subject, key, sig-alg, attributes, extensions,
    key-usage, san, hw-type, eui, signature) with `reason` in words."""
    hw_tuple = tuple(hw_types)
    fast = _fast_check(der, hw_tuple, verify)
    if fast is not None:
        return fast
    try:
        return _full_check(der, _allowed(hw_tuple), verify)
    except _Rejected as r:
        return r.result


class _Rejected(Exception):
    """A failed rule of the full check, with what is known of the CSR so far."""

    def __init__(self, code: str, reason: str, eui: bytes = b"", usage: str = "",
                 key_id: str = "", hw: str = "") -> None:
        super().__init__(reason)
        self.result: CheckTuple = (code, reason, eui, usage, key_id, hw)


@dataclass(slots=True)
class _Found:
    """What the full check has read so far (named in each later finding)."""

    key_id: str
    eui: bytes = b""
    usage: str = ""
    hw: str = ""

    def reject(self, code: str, reason: str) -> _Rejected:
        return _Rejected(code, reason, self.eui, self.usage, self.key_id, self.hw)


def _full_check(der: bytes, allowed: frozenset[str] | None, verify: bool) -> CheckTuple:
    """The field-by-field check of a CSR not in the canonical form; raises `_Rejected`."""
    csr = _load_csr(der)
    pub, key_id = _p256_key(csr, der)
    exts = _extensions(csr, key_id)
    san_ext = _find_ext(exts, x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    ku_ext = _find_ext(exts, x509.oid.ExtensionOID.KEY_USAGE)
    # SAN first, so that even a rejected CSR names its device where it can
    f = _Found(key_id)
    if san_ext is not None:
        f.eui, f.hw = _device_of(san_ext, key_id)
    if ku_ext is not None:
        f.usage = _usage_of(ku_ext.value)  # type: ignore[arg-type]
    _check_envelope(csr, f)
    _check_extensions(exts, ku_ext, san_ext, f)
    if allowed is not None and f.hw not in allowed:
        raise f.reject("hw-type", hw_type_reason(f.hw, allowed))
    if verify:
        try:
            pub.verify(csr.signature, csr.tbs_certrequest_bytes, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise f.reject("signature", "the signature does not verify (wrong key or altered "
                           "request)") from None
    return ("", "", f.eui, f.usage, f.key_id, f.hw)


def _load_csr(der: bytes) -> x509.CertificateSigningRequest:
    try:
        return x509.load_der_x509_csr(der)
    except x509.InvalidVersion as exc:
        raise _Rejected("version", f"not a version 1 (v0) PKCS#10 request ({exc})") from None
    except ValueError as exc:
        raise _Rejected("parse", f"not a DER PKCS#10 certificate request ({exc})") from None


def _p256_key(csr: x509.CertificateSigningRequest,
              der: bytes) -> tuple[ec.EllipticCurvePublicKey, str]:
    """The request's EC P-256 key (uncompressed point) and its key id."""
    try:
        pub = csr.public_key()
    except Exception as exc:  # unsupported key algorithms raise various errors
        raise _Rejected("key", f"unreadable public key ({exc})") from None
    if not isinstance(pub, ec.EllipticCurvePublicKey) or not isinstance(pub.curve, ec.SECP256R1):
        raise _Rejected("key", "the key is not an EC P-256 key")
    point = pub.public_bytes(serialization.Encoding.X962,
                             serialization.PublicFormat.UncompressedPoint)
    key_id = key_id_for_point(point)
    if (_P256_SPKI_PREFIX + point) not in der:
        raise _Rejected("key", "the P-256 point is not in uncompressed form", key_id=key_id)
    return pub, key_id


def _extensions(csr: x509.CertificateSigningRequest, key_id: str) -> x509.Extensions:
    try:
        return csr.extensions
    except Exception as exc:
        raise _Rejected("extensions", f"unreadable requested extensions ({exc})",
                        key_id=key_id) from None


def _find_ext(exts: x509.Extensions,
              oid: x509.ObjectIdentifier) -> x509.Extension[x509.ExtensionType] | None:
    """The last extension with this OID (as the request lists them), or None."""
    found = None
    for ext in exts:
        if ext.oid == oid:
            found = ext
    return found


def _device_of(san_ext: x509.Extension[x509.ExtensionType], key_id: str) -> tuple[bytes, str]:
    """(EUI, hwType) of a SAN that is one hardwareModuleName; (b"", "") for any other SAN."""
    names = list(san_ext.value)  # type: ignore[call-overload]
    if not (len(names) == 1 and isinstance(names[0], x509.OtherName)
            and names[0].type_id == _HMN):
        return b"", ""
    try:
        hw_der, serial = parse_hardware_module_name(names[0].value)
    except ValueError as exc:
        raise _Rejected("san", f"hardwareModuleName is malformed ({exc})",
                        key_id=key_id) from None
    hw = oid_text(hw_der)
    if len(serial) != 8:
        raise _Rejected("eui", f"hwSerialNum has {len(serial)} octets; a device EUI-64 has 8",
                        key_id=key_id, hw=hw)
    return serial, hw


def _check_envelope(csr: x509.CertificateSigningRequest, f: _Found) -> None:
    """Signature algorithm, empty subject, and the one requested-extensions attribute."""
    if csr.signature_algorithm_oid != _ECDSA_SHA256_OID:
        raise f.reject("sig-alg", "not signed with ecdsa-with-SHA256")
    try:
        subject = csr.subject  # parsed lazily: a malformed Name raises only here
    except (ValueError, TypeError) as exc:
        raise f.reject("subject", f"unreadable subject ({exc})") from None
    if len(subject) != 0:
        raise f.reject("subject", f"the subject must be empty, not "
                       f"{subject.rfc4514_string()!r}")
    if _EXT_REQ_OID not in csr.tbs_certrequest_bytes:
        raise f.reject("attributes", "no requested-extensions attribute")
    try:
        n_attrs = len(list(csr.attributes))
    except Exception:
        n_attrs = -1
    if n_attrs != 1:
        raise f.reject("attributes", "only the requested-extensions attribute is allowed")


def _check_extensions(exts: x509.Extensions, ku_ext: x509.Extension[x509.ExtensionType] | None,
                      san_ext: x509.Extension[x509.ExtensionType] | None, f: _Found) -> None:
    """Exactly keyUsage (critical, one usage) and subjectAltName (critical, the device)."""
    if len(exts) != 2 or ku_ext is None or san_ext is None:
        found = ", ".join(e.oid._name for e in exts) or "none"
        raise f.reject("extensions", f"exactly keyUsage and subjectAltName are required "
                       f"(found: {found})")
    if not ku_ext.critical:
        raise f.reject("key-usage", "keyUsage is not critical")
    if not f.usage:
        raise f.reject("key-usage", "keyUsage must have exactly one of digitalSignature or "
                       "keyAgreement")
    if not san_ext.critical:
        raise f.reject("san", "subjectAltName is not critical")
    if not f.eui:
        raise f.reject("san", "subjectAltName must hold exactly one otherName "
                       "hardwareModuleName")


@lru_cache(maxsize=16)
def _templates(hw_types: tuple[str, ...]) -> tuple[tuple[str, str, bytes, bytes], ...]:
    """(usage, hwType, CRI prefix, attributes-without-EUI) of every canonical encoding."""
    if "*" in hw_types:
        return ()
    out = []
    for hw in hw_types:
        try:
            oid_der(hw)
        except ValueError:
            continue
        for usage in USAGES:
            prefix, middle = _template(usage, hw)
            out.append((usage, hw, prefix, middle))
    return tuple(out)


def _fast_check(der: bytes, hw_types: tuple[str, ...], verify: bool) -> CheckTuple | None:
    """The common case in one comparison: DER is canonical, so a Device CSR that follows the
    profile (extensions in the order keyUsage, subjectAltName) is byte for byte the template
    with its own public point and EUI. Then only the point and the signature remain to check.
    None means "not the canonical form": the caller runs the full, field-by-field check."""
    try:
        tag, start, end = _read_tlv(der, 0)
        if tag != 0x30 or end != len(der):
            return None
        tag, _, tbs_end = _read_tlv(der, start)
        if tag != 0x30 or der[tbs_end : tbs_end + len(_ALG_ID)] != _ALG_ID:
            return None
        tag, bit_start, bit_end = _read_tlv(der, tbs_end + len(_ALG_ID))
        if tag != 0x03 or bit_end != end or der[bit_start] != 0:
            return None
    except (ValueError, IndexError):
        return None
    tbs = der[start:tbs_end]
    for usage, hw, prefix, middle in _templates(hw_types):
        n = len(prefix)
        if len(tbs) != n + 65 + len(middle) + 8 or not tbs.startswith(prefix) \
                or tbs[n + 65 : -8] != middle:
            continue
        point = tbs[n : n + 65]
        eui = tbs[-8:]
        key_id = key_id_for_point(point)
        try:
            pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError:
            return ("key", "the public key is not a point on P-256", eui, usage, key_id, hw)
        if verify:
            try:
                pub.verify(der[bit_start + 1 : bit_end], tbs, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                return ("signature", "the signature does not verify (wrong key or altered "
                        "request)", eui, usage, key_id, hw)
        return ("", "", eui, usage, key_id, hw)
    return None


def hw_type_reason(hw: str, allowed: Iterable[str]) -> str:
    """Why a device's hwType is refused, in words that say what to do when the environment's
    certificate profile lists no hwType at all (then none can be accepted)."""
    listed = sorted(allowed)
    if not listed:
        return (f"hwType {hw or 'missing'} cannot be accepted: this environment's certificate "
                "profile lists no hwType OIDs. Add the DCC's hwType OIDs to the profile "
                "(Settings → Profiles shows the override file in use), then check again.")
    return f"hwType {hw or 'missing'} is not one this environment accepts ({', '.join(listed)})"


@lru_cache(maxsize=16)
def _allowed(hw_types: tuple[str, ...]) -> frozenset[str] | None:
    """None means "any hwType" (only when the caller passes the wildcard '*')."""
    if "*" in hw_types:
        return None
    return frozenset(hw_types)


def _usage_of(ku: x509.KeyUsage) -> str:
    others = (ku.content_commitment, ku.key_encipherment, ku.data_encipherment,
              ku.key_cert_sign, ku.crl_sign)
    if any(others):
        return ""
    if ku.key_agreement and (ku.encipher_only or ku.decipher_only):
        return ""
    if ku.digital_signature and not ku.key_agreement:
        return SIGNING
    if ku.key_agreement and not ku.digital_signature:
        return KEY_AGREEMENT
    return ""


def _check_chunk(ders: list[bytes], hw_types: tuple[str, ...]) -> list[CheckTuple]:
    return [check_device_csr(d, hw_types) for d in ders]


# --- Generation ----------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _template(usage: str, hw_type: str) -> tuple[bytes, bytes]:
    """(CRI prefix up to the public point, attributes up to the EUI): the EUI is the last 8
    octets of the CertificationRequestInfo, so a placeholder EUI is built and cut off."""
    ku = _KU_DS if usage == SIGNING else _KU_KA
    hmn = _tlv(0x30, oid_der(hw_type) + _tlv(0x04, b"\x00" * 8))
    other_name = _tlv(0xA0, _HMN_DER + _tlv(0xA0, hmn))
    san = _tlv(0x30, bytes.fromhex("0603551d110101ff") + _tlv(0x04, _tlv(0x30, other_name)))
    attrs = _tlv(0xA0, _tlv(0x30, _EXT_REQ_OID + _tlv(0x31, _tlv(0x30, ku + san))))
    cri = _tlv(0x30, b"\x02\x01\x00\x30\x00" + _P256_SPKI_PREFIX + b"\x04" * 65 + attrs)
    head_len = len(cri) - len(attrs) - 65
    return cri[:head_len], attrs[:-8]


def build_device_csr(key: ec.EllipticCurvePrivateKey, eui: bytes, usage: str,
                     hw_type: str = TEST_HW_TYPE) -> bytes:
    """A Device CSR (DER) for the key, signed by it."""
    if len(eui) != 8:
        raise ValueError("a device EUI-64 has 8 octets")
    if usage not in USAGES:
        raise ValueError(f"usage {usage!r} is not signing or key-agreement")
    prefix, middle = _template(usage, hw_type)
    point = key.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)
    tbs = prefix + point + middle + eui
    sig = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    body = tbs + _ALG_ID + b"\x03" + _len(len(sig) + 1) + b"\x00" + sig
    return b"\x30" + _len(len(body)) + body


def generate_one(eui: bytes, usage: str, hw_type: str = TEST_HW_TYPE,
                 keep_key: bool = True) -> GenTuple:
    key = ec.generate_private_key(ec.SECP256R1())
    der = build_device_csr(key, eui, usage, hw_type)
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()) if keep_key else b""
    return (eui, usage, der, pkcs8)


def _gen_chunk(items: list[tuple[bytes, str]], hw_type: str, keep_keys: bool) -> list[GenTuple]:
    return [generate_one(e, u, hw_type, keep_keys) for e, u in items]


# --- Parallel driver -----------------------------------------------------------------------------

T = TypeVar("T")
R = TypeVar("R")


class Cancelled(errors.Cancelled):
    """Generation or checking stopped by the user after `done` items."""

    def __init__(self, done: int) -> None:
        super().__init__(f"cancelled after {done} items")
        self.done = done


def default_processes() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _worker_init(parent: int | None = None) -> None:
    """Workers yield the CPU to the process that started them (a GUI stays responsive), and
    die with it: a parent killed with SIGKILL cannot stop them, so each watches its parent."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(5)
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                         name="parent-watch").start()


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    """End this worker as soon as its parent is gone (re-parented: getppid changes). Polling
    rather than PR_SET_PDEATHSIG, which fires when the parent *thread* that started the
    worker ends (the pool may be started from a short-lived job thread)."""
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(interval)


_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()


def shared_pool(processes: int | None = None) -> ProcessPoolExecutor:
    """The worker processes (spawned once, reused by every batch job of this process; started
    early by `prewarm` so that their start-up overlaps reading the source)."""
    global _POOL, _POOL_SIZE
    procs = processes or default_processes()
    with _POOL_LOCK:
        if _POOL is None or procs != _POOL_SIZE:
            if _POOL is not None:
                _POOL.shutdown(wait=False, cancel_futures=True)
            _POOL = ProcessPoolExecutor(max_workers=procs, mp_context=get_context("spawn"),
                                        initializer=_worker_init, initargs=(os.getpid(),))
            _POOL_SIZE = procs
        return _POOL


def _drop_pool(pool: ProcessPoolExecutor) -> None:
    global _POOL
    with _POOL_LOCK:
        if _POOL is pool:
            _POOL = None
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown_pool() -> None:
    """Stop the worker processes (they start again on the next batch job)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True)


def _noop() -> int:
    return os.getpid()


def prewarm(processes: int | None = None) -> None:
    """Start the worker processes now, without waiting for them."""
    procs = processes or default_processes()
    if procs > 1:
        pool = shared_pool(procs)
        for _ in range(procs):
            pool.submit(_noop)


def run_chunked(
    fn: Callable[..., list[R]],
    items: Iterable[T],
    extra: tuple[object, ...],
    *,
    processes: int | None = None,
    chunk: int = 1000,
    progress: ProgressSink | None = None,
    text: str = "",
    serial_below: int = 2000,
    total: int | None = None,
) -> list[R]:
    """Apply `fn(chunk_list, *extra)` over `items` in chunks, in worker processes when there are
    enough items, keeping order. `items` may be a lazy iterable (give `total`, an estimate for
    progress and for choosing processes): it is read while the workers compute, so reading a
    source overlaps checking it. Progress is reported per chunk; when `progress.cancelled`
    turns true the remaining chunks are abandoned and `Cancelled` is raised."""
    sink = progress or NullProgress()
    if total is None:
        items = items if isinstance(items, Sequence) else list(items)
        total = len(items)
    procs = default_processes() if processes is None else processes
    source = iter(items)

    def chunks() -> Iterator[list[T]]:
        while True:
            part = list(itertools.islice(source, chunk))
            if not part:
                return
            yield part

    out: list[R] = []
    sink.progress(0, total, text)
    if procs <= 1 or total < serial_below:
        for part in chunks():
            if sink.cancelled:
                raise Cancelled(len(out))
            out.extend(fn(part, *extra))
            sink.progress(len(out), max(total, len(out)), text)
        return out
    pool = shared_pool(procs)
    pending: list[Future[list[R]]] = []
    it = chunks()
    try:
        # keep a bounded number of chunks in flight (memory stays flat)
        for part in it:
            pending.append(pool.submit(fn, part, *extra))
            if len(pending) >= procs * 3:
                break
        while pending:
            fut = pending.pop(0)
            out.extend(fut.result())
            sink.progress(len(out), max(total, len(out)), text)
            if sink.cancelled:
                raise Cancelled(len(out))
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(fn, nxt, *extra))
    except BrokenProcessPool:
        _drop_pool(pool)
        raise
    except BaseException:
        for f in pending:
            f.cancel()
        raise
    return out


def check_many(ders: Iterable[bytes], hw_types: Iterable[str], *, processes: int | None = None,
               progress: ProgressSink | None = None, chunk: int = 1000,
               total: int | None = None) -> list[CheckTuple]:
    """Check every CSR (in order) using all cores; `ders` may be lazy (see `run_chunked`)."""
    return run_chunked(_check_chunk, ders, (tuple(hw_types),), processes=processes, chunk=chunk,
                       progress=progress, text="Checking CSRs", total=total)


def generate_many(items: Sequence[tuple[bytes, str]], hw_type: str = TEST_HW_TYPE, *,
                  keep_keys: bool = True, processes: int | None = None,
                  progress: ProgressSink | None = None, chunk: int = 500) -> list[GenTuple]:
    """Generate a key pair and Device CSR for each (eui, usage), using all cores."""
    return run_chunked(_gen_chunk, items, (hw_type, keep_keys), processes=processes, chunk=chunk,
                       progress=progress, text="Generating test device CSRs")


@dataclass(frozen=True)
class DeviceCsrSummary:
    """Readable summary of one checked CSR (for single-file callers)."""

    valid: bool
    code: str
    reason: str
    eui: bytes
    usage: str
    key_id: str
    hw_type: str

    @classmethod
    def of(cls, t: CheckTuple) -> DeviceCsrSummary:
        return cls(t[0] == "", t[0], t[1], t[2], t[3], t[4], t[5])
