"""Lint rules of the SMKI CSR and certificate profiles: stable ids, severities and findings.

Rule ids are stable strings (`ku.not-critical`): other parts (device batches, simulator) report
the same ids. Severity `error` means the file breaks the profile; `warning` means it is unusual but
the DCC's own test certificates do it too (e.g. a serial that is not 16 octets).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: Severity
    title: str


@dataclass(frozen=True)
class Finding:
    """One broken rule in one file."""

    rule_id: str
    severity: Severity
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule_id, "severity": self.severity.value, "message": self.message}

    def __str__(self) -> str:
        return f"{self.severity.value}: {self.rule_id}: {self.message}"


E, W = Severity.ERROR, Severity.WARNING

_RULE_LIST: list[Rule] = [
    # what the file is
    Rule("csr.version", E, "PKCS#10 version is not v1 (0)"),
    Rule("csr.signature-invalid", E, "CSR self-signature does not verify"),
    Rule("csr.attributes", E, "CSR attributes are not exactly one extensionRequest"),
    Rule("cert.version", E, "certificate is not X.509 v3"),
    Rule("cert.serial-not-positive", E, "serial number is not a positive INTEGER"),
    Rule("cert.serial-length", W, "serial number is not 16 octets"),
    Rule("cert.issuer-unknown", W, "issuer is not a CA name of this environment's profile"),
    Rule("cert.signature-mismatch", E, "inner and outer signature algorithms differ"),
    # subject
    Rule("subject.order", E, "subject attributes not [CN], OU, uniqueIdentifier, one per RDN"),
    Rule("subject.ou-missing", E, "subject has no OU (Remote Party Role)"),
    Rule("subject.ou-format", E, "OU is not two upper-case hexadecimal digits"),
    Rule("subject.ou-unknown-role", E, "OU is not a Remote Party Role code"),
    Rule("subject.string-type", E, "CN or OU is not a UTF8String"),
    Rule("subject.cn-not-allowed", E, "CN present where the profile does not allow one"),
    Rule("subject.cn-not-plain", E, "CN holds a control or format character (not one line of "
                                    "plain text)"),
    Rule("subject.uid-missing", E, "subject has no uniqueIdentifier (2.5.4.45)"),
    Rule("subject.uid-encoding", E, "uniqueIdentifier is not a BIT STRING"),
    Rule("subject.uid-length", E, "uniqueIdentifier is not exactly 64 bits"),
    Rule("subject.device-not-empty", E, "device subject is not empty"),
    # key and signature
    Rule("key.not-p256", E, "public key is not EC P-256"),
    Rule("key.point-form", E, "EC point is not an uncompressed P-256 point"),
    Rule("sig.algorithm", E, "signature algorithm is not ecdsa-with-SHA256"),
    Rule("sig.null-parameters", E, "signature algorithm carries parameters (e.g. NULL)"),
    # extensions
    Rule("ext.unexpected", E, "an extension the profile does not allow"),
    Rule("ext.duplicate", E, "the same extension appears twice"),
    Rule("ku.missing", E, "keyUsage missing"),
    Rule("ku.not-critical", E, "keyUsage not critical"),
    Rule("ku.bits", E, "keyUsage is not exactly one of digitalSignature or keyAgreement"),
    Rule("ski.missing", E, "subjectKeyIdentifier missing"),
    Rule("ski.critical", E, "subjectKeyIdentifier is critical"),
    Rule("ski.method", E, "subjectKeyIdentifier is not 8 octets by RFC 5280 method 2"),
    Rule("aki.missing", E, "authorityKeyIdentifier missing"),
    Rule("aki.critical", E, "authorityKeyIdentifier is critical"),
    Rule("aki.issuer-serial", E, "AKI has issuer/serial or no keyIdentifier"),
    Rule("policy.missing", E, "certificatePolicies missing"),
    Rule("policy.not-critical", E, "certificatePolicies not critical"),
    Rule("policy.count", E, "certificatePolicies does not hold exactly one policy"),
    Rule("policy.unknown", E, "policy OID is not accepted for this environment and type"),
    Rule("profile.unconfigured", W, "the profile has no accepted values configured to check"),
    Rule("san.missing", E, "device subjectAltName missing"),
    Rule("san.not-critical", E, "device subjectAltName not critical"),
    Rule("san.form", E, "subjectAltName is not one otherName hardwareModuleName"),
    Rule("san.hwserial-length", E, "hwSerialNum is not 8 octets"),
    Rule("san.hwtype-unknown", E, "hwType OID is not accepted for this environment"),
    # validity
    Rule("validity.encoding", E, "time not UTCTime before 2050 / GeneralizedTime from 2050"),
    Rule("validity.device-not-after", E, "device notAfter is not GeneralizedTime 99991231235959Z"),
]

RULES: dict[str, Rule] = {r.rule_id: r for r in _RULE_LIST}

# Not a finding but the outcome "this is not a CSR or certificate at all" (lint exit code 2).
NOT_PARSEABLE = "file.not-csr-or-certificate"


def finding(rule_id: str, message: str) -> Finding:
    """A finding of a known rule, with the rule's severity."""
    rule = RULES[rule_id]
    return Finding(rule_id, rule.severity, message)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.is_error for f in findings)
