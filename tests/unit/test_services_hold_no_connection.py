"""The officer register and the audit log give their services the Database, not a connection
(issue 10): the services change them through the repositories' own write transactions
(`store.repos.officers.writing`, `AuditRepo.writing`), so they neither import `sqlite3` nor
open a transaction or a connection themselves. Read from the source with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

import smki_desktop.services as services_pkg

SERVICES = Path(services_pkg.__file__).parent
MODULES = ("officers.py", "audit.py", "nomination.py", "audit_log.py")


def connection_use(source: str) -> list[str]:
    found = []
    for n in ast.walk(ast.parse(source)):
        if isinstance(n, ast.Import | ast.ImportFrom):
            names = [a.name for a in n.names] + ([n.module] if isinstance(n, ast.ImportFrom)
                                                  and n.module else [])
            found += [f"{n.lineno}: import {m}" for m in names if m.split(".")[0] == "sqlite3"]
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                and n.func.attr in {"transaction", "conn"}:
            found.append(f"{n.lineno}: {ast.unparse(n.func)}()")
    return found


def test_register_and_audit_services_hold_no_connection() -> None:
    offenders = {m: connection_use((SERVICES / m).read_text(encoding="utf-8"))
                 for m in MODULES if (SERVICES / m).exists()}
    assert {m: f for m, f in offenders.items() if f} == {}
    assert len(offenders) == len(MODULES)


def test_the_scan_sees_a_connection() -> None:
    src = ("import sqlite3\n"
           "def change(ctx):\n"
           "    with ctx.db.transaction() as c:\n"
           "        c.execute('x')\n"
           "    ctx.db.conn().execute('y')\n")
    assert [f.split(":")[0] for f in connection_use(src)] == ["1", "3", "5"]
