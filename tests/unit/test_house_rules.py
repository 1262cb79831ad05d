"""The size rules of issue 10 ("House in order"), held for every module of `smki_desktop`:
no module over 800 lines, no function or method with a cyclomatic complexity over 30
(measured by radon, the figure `radon cc` prints)."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit

PACKAGE = Path(__file__).resolve().parents[2] / "smki_desktop"
MAX_LINES = 800
MAX_COMPLEXITY = 30


def _modules() -> list[Path]:
    mods = sorted(PACKAGE.rglob("*.py"))
    assert len(mods) > 100, f"expected the whole package under {PACKAGE}, found {len(mods)}"
    return mods


def test_no_module_over_800_lines() -> None:
    big = [f"{p.relative_to(PACKAGE.parent)}: {n} lines"
           for p in _modules() if (n := len(p.read_text(encoding="utf-8").splitlines()))
           > MAX_LINES]
    assert not big, "split these modules by the user's actions:\n" + "\n".join(big)


def test_no_function_with_complexity_over_30() -> None:
    over: list[str] = []
    seen = 0
    for p in _modules():
        for block in cc_visit(p.read_text(encoding="utf-8")):
            seen += 1
            # methods of classes are listed inside their class block as well
            items = [block, *getattr(block, "methods", [])]
            for b in items:
                if b.complexity > MAX_COMPLEXITY:
                    over.append(f"{p.relative_to(PACKAGE.parent)}:{b.lineno} {b.name} "
                                f"(complexity {b.complexity})")
    assert seen > 1000, f"radon saw only {seen} blocks: is it reading the package?"
    assert not over, "name the checks of these functions:\n" + "\n".join(sorted(set(over)))


def test_the_complexity_measure_counts_branches() -> None:
    """The rule would pass vacuously if the measure were broken: a function with 31 decision
    points must measure over 30."""
    src = "def f(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n"
                                  for i in range(31)) + "    return -1\n"
    (block,) = cc_visit(src)
    assert block.complexity == 32
