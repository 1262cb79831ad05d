"""Every page, dialog, wizard, widget and settings panel runs its service work as a `PageOp`
(issue 10: one page operation): no module of `smki_desktop.gui` other than the runner
(`gui/jobs.py`) and `gui/page_op.py` submits to the job runner or builds a `Job` itself, so
busy state, error messages, cancellation and the refresh of the pages that show what changed
are the same everywhere. The window builds the one `JobRunner`, and submits to it the one job
that opens the environment's context (`MainWindow._start_open`: a PageOp needs the page
services, which need that context; the window says a failure to open itself). Read from the
source with `ast`, so a call inside a nested function, or through a local name for the runner,
counts."""

from __future__ import annotations

import ast
from pathlib import Path

import smki_desktop.gui as gui_pkg

GUI = Path(gui_pkg.__file__).parent
RUNNER_MODULES = {"jobs.py", "page_op.py"}
BUILDS_THE_RUNNER = {"main_window.py"}
OPENS_THE_CONTEXT = "_start_open"  # in the module that builds the runner


def lines_of(source: str, function: str) -> range:
    """The lines of the (first) function of that name."""
    node = next(n for n in ast.walk(ast.parse(source))
                if isinstance(n, ast.FunctionDef) and n.name == function)
    return range(node.lineno, (node.end_lineno or node.lineno) + 1)


def _is_runner(node: ast.expr, aliases: set[str]) -> bool:
    """`….jobs`, `jobs`, or a local name that was given `….jobs`."""
    if isinstance(node, ast.Attribute):
        return node.attr == "jobs"
    return isinstance(node, ast.Name) and (node.id == "jobs" or node.id in aliases)


def direct_job_use(source: str) -> list[str]:
    """Each place the module runs a job without PageOp: `<runner>.submit(...)`, `Job(...)`,
    `JobRunner(...)`, as "line: text"."""
    tree = ast.parse(source)
    aliases = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign)
               and isinstance(n.value, ast.Attribute) and n.value.attr == "jobs"
               for t in n.targets if isinstance(t, ast.Name)}
    found: list[tuple[int, str]] = []
    for n in ast.walk(tree):
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        if isinstance(f, ast.Attribute) and f.attr == "submit" and _is_runner(f.value, aliases):
            found.append((n.lineno, f"{n.lineno}: {ast.unparse(f)}(…)"))
        elif isinstance(f, ast.Name) and f.id in {"Job", "JobRunner"}:
            found.append((n.lineno, f"{n.lineno}: {f.id}(…)"))
    return [text for _line, text in sorted(found)]


def test_no_gui_module_runs_a_job_except_through_page_op() -> None:
    modules = sorted(p for p in GUI.rglob("*.py") if p.name not in RUNNER_MODULES
                     or p.parent != GUI)
    assert len(modules) > 60  # the whole GUI is scanned
    offenders = {}
    for p in modules:
        source = p.read_text(encoding="utf-8")
        found = direct_job_use(source)
        if p.parent == GUI and p.name in BUILDS_THE_RUNNER:
            opening = lines_of(source, OPENS_THE_CONTEXT)
            found = [f for f in found if not f.endswith("JobRunner(…)")
                     and not (f.endswith("submit(…)") and int(f.split(":")[0]) in opening)]
            assert len(direct_job_use(source)) - len(found) <= 2  # the runner, the opening
        if found:
            offenders[str(p.relative_to(GUI))] = found
    assert offenders == {}


def test_the_scan_sees_each_way_of_running_a_job() -> None:
    source = (
        "from smki_desktop.gui.jobs import Job, JobRunner\n"
        "class Page:\n"
        "    def load(self):\n"
        "        self.services.jobs.submit(work, on_done=print)\n"
        "    def other(self):\n"
        "        runner = self.services.jobs\n"
        "        def later():\n"
        "            runner.submit(work)\n"
        "        later()\n"
        "        Job(work)\n"
        "        JobRunner()\n"
        "    def fine(self):\n"
        "        PageOp(self, self.services, work, name='Work').run()\n"
        "        self.devices.submit(self.source)\n")
    assert [f.split(":")[0] for f in direct_job_use(source)] == ["4", "8", "10", "11"]
