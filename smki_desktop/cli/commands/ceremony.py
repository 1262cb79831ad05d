"""`smki ceremony check|run|verify`: offline key ceremonies from a reviewed ceremony file.

`run` asks, for every step, the administrator to confirm and each witness to acknowledge (and
the team to accept any machine warning) on the terminal; PINs and passphrases are asked the
same way. `--answers-fd N` reads those answers, one line each, from file descriptor N instead
(for tests and rehearsals in Test; the Live environment refuses it: there, people answer).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import IO

from smki_desktop.cli.main import CliApp
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.services import ceremony as ceremony_service
from smki_desktop.services import ceremony_qr, ceremony_verify
from smki_desktop.services.context import default_data_root


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("ceremony", help="offline key ceremonies: check, run, verify")
    cs = p.add_subparsers(dest="ceremony_cmd", metavar="ACTION")
    cs.required = True
    c = cs.add_parser("check", help="check a ceremony file and print its plan (no token)")
    c.add_argument("file", type=Path)
    c.set_defaults(handler=run_check)
    r = cs.add_parser("run", help="run a ceremony (or --rehearsal with throwaway keys)")
    r.add_argument("file", type=Path)
    r.add_argument("--rehearsal", action="store_true",
                   help="throwaway keys only: check that every CSR lints clean; nothing kept")
    r.add_argument("--answers-fd", type=int, default=None, metavar="N",
                   help="read confirmations, PINs and passphrases from file descriptor N "
                        "(Test only)")
    r.set_defaults(handler=run_run)
    v = cs.add_parser("verify", help="verify a transcript, its signature and the outputs")
    v.add_argument("transcript", type=Path, help="transcript.jsonl or the output folder")
    v.set_defaults(handler=run_verify)
    w = cs.add_parser("sign", help="a witness signs a finished transcript with their own "
                                   "file-signing credential")
    w.add_argument("transcript", type=Path, help="transcript.jsonl or the output folder")
    w.add_argument("--witness", required=True, help="the witness's name, as in the file")
    w.add_argument("--key", default=None, help="which credential key (default: the newest)")
    w.set_defaults(handler=run_sign)
    q = cs.add_parser("qr", help="show one CSR as a QR code (where no media may be used)")
    q.add_argument("csr", type=Path)
    q.add_argument("--out", type=Path, default=None, help="write a PNG instead of printing it")
    q.set_defaults(handler=run_qr)


def run_check(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    checked = ceremony_service.check_ceremony(ctx, args.file)
    for w in checked.warnings:
        app.warn(f"warning: {w}")
    app.emit(checked.as_dict(), checked.plan.plan_text() + "\nThe ceremony file is valid.")
    return 0


class Answers:
    """Answers from the terminal, or line by line from a file descriptor."""

    def __init__(self, stream: IO[str] | None) -> None:
        self.stream = stream

    @staticmethod
    def _ran_out(prompt: str) -> Refusal:
        return Refusal(f"{prompt}: no answer (the answers ran out, or the input was closed); "
                       "stopped cleanly, nothing was done in this step. Re-run to resume.")

    def line(self, prompt: str) -> str:
        sys.stderr.write(prompt + (": " if self.stream is None else "\n"))
        sys.stderr.flush()
        if self.stream is None:
            try:
                return input().strip()
            except EOFError:
                raise self._ran_out(prompt) from None
        text = self.stream.readline()
        if not text:
            raise self._ran_out(prompt)
        return text.strip()

    def ask(self, prompt: str, *, confirm: bool = False) -> str:
        if self.stream is None:
            try:
                value = getpass.getpass(prompt + ": ")
                if confirm and getpass.getpass("Again: ") != value:
                    raise InputError(f"{prompt}: the two entries differ.")
            except EOFError:
                raise self._ran_out(prompt) from None
            return value
        value = self.line(prompt)
        if confirm and self.line(prompt + " (again)") != value:
            raise InputError(f"{prompt}: the two entries differ.")
        return value


def _yes(answers: Answers, prompt: str, what: str) -> None:
    if answers.line(prompt + " — type 'yes'").lower() != "yes":
        raise Refusal(f"{what}: not confirmed; nothing was done in this step. Re-run the "
                      "ceremony to resume from here.")


def run_run(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    stream: IO[str] | None = None
    if args.answers_fd is not None:
        if ctx.env is Environment.LIVE:
            raise Refusal("--answers-fd: the Live environment refuses answers from a file "
                          "descriptor; in a Live ceremony the administrator and witnesses "
                          "answer at the terminal.")
        try:
            stream = os.fdopen(args.answers_fd, "r", closefd=False)
        except OSError as exc:
            raise InputError(f"--answers-fd {args.answers_fd}: {exc.strerror or exc}.") \
                from None
    answers = Answers(stream)
    run = ceremony_service.CeremonyRun(ctx, args.file, answers, rehearsal=args.rehearsal)
    plan = run.plan
    out = sys.stderr if app.json else sys.stdout  # --json: one document on stdout
    try:
        if run.resumed:
            done = sorted(run.journal.done())
            out.write(f"Resuming ceremony {plan.ceremony_id}: completed steps "
                      f"{', '.join(done) or 'none'}.\n")
        steps = run.steps()
        remaining = run.remaining()
        if not remaining:
            out.write(f"Ceremony {plan.ceremony_id} is complete; verify it with `smki ceremony "
                      f"verify {run.journal_path}`.\n")
            return 0
        for step in remaining:
            n = next(i for i, s in enumerate(steps, 1) if s.step_id == step.step_id)
            out.write(f"\nStep {n}/{len(steps)}: {step.title}\n")
            out.flush()
            warnings = run.warnings_for(step)
            for w in warnings:
                out.write(f"WARNING: {w}\n")
                out.flush()
                _yes(answers, "The team acknowledges this warning", f"Step {step.step_id}")
            _yes(answers, f"Administrator {plan.administrator}: perform this step",
                 f"Step {step.step_id}")
            for w in plan.witnesses:
                _yes(answers, f"Witness {w}: I have seen this step", f"Step {step.step_id}")
            result = ceremony_service.confirm_and_perform(run, step, list(plan.witnesses),
                                                          warnings)
            for line in result.lines:
                out.write(f"  {line}\n")
            out.write(f"DONE {step.step_id}\n")
            out.flush()
    finally:
        run.close()
    if args.rehearsal:
        app.emit({"rehearsal": True, "ok": True, "steps": [e["step"] for e in
                                                          run.journal.entries]},
                 "\nRehearsal passed: every CSR this ceremony will produce lints clean. "
                 "Nothing was kept.")
    else:
        app.emit({"ceremony_id": plan.ceremony_id, "transcript": str(run.journal_path),
                  "complete": run.complete},
                 f"\nCeremony {plan.ceremony_id} complete. Transcript: {run.journal_path}")
    return 0


def run_verify(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    rep = ceremony_verify.verify_transcript(ctx, args.transcript)
    lines = [f"Ceremony {rep.ceremony_id}: " + ("VERIFIED" if rep.ok else "NOT VERIFIED")]
    lines += [f"  ok: {c}" for c in rep.checked]
    lines += [f"  PROBLEM: {p}" for p in rep.problems]
    app.emit(rep.as_dict(), "\n".join(lines))
    return 0 if rep.ok else 1


def run_qr(args: argparse.Namespace, app: CliApp) -> int:
    root = Path(args.data_dir) if args.data_dir else default_data_root()
    qr = ceremony_qr.csr_qr(args.csr, app.env, root)
    if args.out is not None:
        ceremony_qr.write_csr_qr_png(args.csr, app.env, root, args.out)
        app.emit({"csr": str(args.csr), "png": str(args.out), "version": qr.version},
                 f"QR code (version {qr.version}) of {args.csr} written to {args.out}.")
        return 0
    if app.json:
        app.emit({"csr": str(args.csr), "version": qr.version})
        return 0
    qr.terminal(out=sys.stdout, compact=True)
    return 0


def run_sign(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = ceremony_verify.witness_sign(ctx, args.transcript, args.witness, args.key)
    app.emit({"witness": res.witness, "signature": str(res.signature), "signer": res.signer},
             f"Witness {res.witness} signed the transcript ({res.signer}): {res.signature}")
    return 0
