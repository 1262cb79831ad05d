"""Per-page help in plain words: what the page is, what an officer does there, and the SEC
terms it uses. Shown in the page's help panel (the "?" button or F1). Texts name GUI actions
(menus, buttons), never command-line commands or options; a test scans them."""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class PageHelp:
    what: str
    do: str
    terms: tuple[tuple[str, str], ...] = ()


TERMS = {
    "ARO": "Authorised Responsible Officer: the person who requests and handles your "
           "organisation's certificates.",
    "SRO": "Senior Responsible Officer: nominates AROs and confirms important acts.",
    "SMKI": "Smart Metering Key Infrastructure: the DCC's PKI for smart meters.",
    "CSR": "Certificate Signing Request: the request, made with your key, for a certificate.",
    "EUI": "Extended Unique Identifier (EUI-64): the 16-hex-digit identity of an "
           "organisation or device in a certificate.",
    "Remote Party Role": "The role code in an Organisation Certificate (e.g. 02 Supplier).",
    "ADT": "Anomaly Detection Thresholds: the limits the DCC applies to your commands.",
    "SMSR": "Service Management Service Request: the DCC's reference for a request.",
    "Trust anchor": "A root certificate you trust; signatures are checked up to it.",
    "GPG45": "The UK government's identity checking guidance; level 3 for officers.",
    "SREPT": "SMKI and Repository Entry Process Tests, passed before live use.",
}


def _t(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, TERMS[n]) for n in names)


PAGES: dict[str, PageHelp] = {
    "ceremony": PageHelp(
        "A key ceremony makes your most important keys on an offline machine, in front of "
        "witnesses, from one reviewed ceremony file, and keeps a signed transcript of every "
        "step.",
        "Choose the ceremony file and check it; rehearse it with throwaway keys; then start the "
        "ceremony and follow each step with the administrator and the witnesses.",
        _t("CSR", "EUI")),
    "approvals": PageHelp(
        "Requests waiting for an SRO: revocations of certificates and, where the rules ask for "
        "it, the creation of Organisation certificates. Nothing reaches the DCC until enough "
        "SROs have approved.",
        "Select a request, read exactly what would be revoked, then approve or reject it with "
        "a reason. You cannot approve your own request.", _t("SRO", "ARO")),
    "incidents": PageHelp(
        "Suspected compromises of your keys, and the recovery that follows: new keys, "
        "replacement CSRs and revocation of the old certificates.",
        "Open an incident as soon as a key may be compromised; an SRO confirms it; then "
        "re-key and follow the checklist until the incident can be closed.", _t("SRO", "CSR")),
    "dashboard": PageHelp(
        "Your organisation's state at a glance: the Party profile, your officer profile, what "
        "is not set up yet, and readiness for live use.",
        "Work down the 'not set up yet' list. Edit the Party profile first; then make a key "
        "on the Keys page.", _t("SMKI", "SREPT")),
    "keys": PageHelp(
        "Your private keys in this environment, with what each is for and which certificates "
        "use it.",
        "Generate a key for each purpose (signing, key agreement, web-service, file signing). "
        "Select a key and use the actions under the table or the right-click menu.",
        _t("CSR")),
    "certificates": PageHelp(
        "Certificates the DCC issued to you and trust anchors, each checked against the SMKI "
        "profile when imported.",
        "Import a certificate you received; double-click one to read its details. A "
        "certificate that fails the acceptance check must be rejected to the DCC. Show "
        "superseded lists the certificates replaced by the genuine one with the same issuer "
        "and serial (one recorded first did not verify): they are kept for the audit trail "
        "and never used.",
        _t("EUI", "Remote Party Role", "Trust anchor")),
    "requests": PageHelp(
        "Organisation CSRs: requests for certificates for your organisation's EUI and role.",
        "Use New Organisation CSR to make a key and request; in Live, submit it through the "
        "SMKI Portal and import the certificate when it is issued.",
        _t("CSR", "EUI", "Remote Party Role")),
    "devices": PageHelp(
        "Device CSRs from meters and hubs: validated, packaged for the portal or sent over "
        "the web service, and the DCC's results.",
        "Open (or drop) a folder, zip or CSV of Device CSRs. When every row is valid, Package "
        "for the portal or Submit; import the portal's response when it arrives. A single "
        "CSR can be sent on its own with Send one Device CSR (ad hoc).",
        _t("CSR", "EUI")),
    "adt": PageHelp(
        "Anomaly Detection Threshold files: edit, check, sign with your file-signing "
        "credential, have the SRO confirm, and package for delivery.",
        "Create one from the template or open a CSV; fix the cells marked in red; Save; Sign. "
        "The SRO then confirms, and you Deliver the package.",
        _t("ADT", "SMSR", "SRO")),
    "quarantine": PageHelp(
        "Communications the DCC held because they crossed an anomaly threshold.",
        "Import the Quarantined Communications Report, decide PROCESS or DELETE for each, then "
        "create the signed Action file for the DCC.", _t("ADT")),
    "officers": PageHelp(
        "The register of your SROs and AROs: nominations, identity verification, activation, "
        "suspension and revocation.",
        "New nomination starts the form wizard. After the identity meeting, select the officer "
        "and Record verification, then Activate.", _t("ARO", "SRO", "GPG45")),
    "forecast": PageHelp(
        "How many CSRs you expect to send each month, built from what you sent before.",
        "Check the history, then type your plan into a month; the DCC must be told about "
        "months above 150% of the recent average. Export the forecast to send it.",
        _t("CSR")),
    "repository": PageHelp(
        "The SMKI Repository: the DCC's published certificates and revocation lists.",
        "Search by EUI or serial to find a certificate another party published.",
        _t("SMKI", "EUI")),
    "audit": PageHelp(
        "Every change made in this environment, in a chain that shows if anything was "
        "altered.",
        "Filter by action; select an entry to read what it recorded.", ()),
    "settings": PageHelp(
        "Settings for this environment only: profiles, the portal and credentials, ADT "
        "profiles.",
        "Each tab explains its settings. Test and Live keep separate settings.",
        _t("Trust anchor")),
}


def page_help(module: str) -> PageHelp:
    return PAGES.get(module, PageHelp("This page has no help text yet.", "", ()))


def as_html(module: str, title: str) -> str:
    h = page_help(module)
    terms = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in h.terms)
    return (f"<h3>{html.escape(title)}</h3><p><b>What is this?</b> {html.escape(h.what)}</p>"
            + (f"<p><b>What do I do?</b> {html.escape(h.do)}</p>" if h.do else "")
            + (f"<p><b>Terms</b></p><ul>{terms}</ul>" if terms else ""))
