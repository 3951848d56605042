"""The oracle's verdict on one target: a result per law, the teaching text of each failure, a count line,
and the same content as JSON for CI dashboards."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lineage.oracle.preflight import Problem
    from lineage.oracle.targets import Target


class Status(StrEnum):
    """The verdict of one law on one target."""

    PASSED = "passed"
    FAILED = "failed"  # the law is broken (or the target raised, hung, returned the wrong shape)
    WARNING = "warning"  # a float64 output that is only float32-accurate
    EXPECTED_FAILURE = "expected failure"  # failed, and the caller declared it expected
    NOT_APPLICABLE = "not applicable"  # the calling convention cannot express what the law needs
    SKIPPED = "skipped"  # the preflight failed (or an earlier call still runs), so the law did not run
    ERROR = "oracle error"  # lineage itself raised while running the law: a bug in lineage, no verdict


@dataclass
class LawResult:
    law: str  # law id, e.g. "gae.lambda_zero_is_td_error"
    claims: tuple[str, ...]
    section: str
    statement: str
    status: Status
    reason: str = ""  # why not applicable / skipped / a warning / an expected failure
    message: str = ""  # the violation: expected vs got, first differing index
    counterexample: str = ""  # the minimal failing input, as named fields
    shrunk: bool = True  # False: the counterexample is the input a call hung on (the search stopped there)
    likely_cause: str = ""
    repro: str = ""
    examples: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """Plain values (the status as its text): JSON, and pytest-xdist's report properties."""
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, fields: dict) -> LawResult:
        return cls(**{**fields, "claims": tuple(fields["claims"]), "status": Status(fields["status"])})

    def render(self) -> str:
        """The teaching text of one law."""
        head = f"{self.status.value.upper():<16} {self.law}   [{', '.join(self.claims)}; notes {self.section}]"
        if self.status is Status.PASSED:
            return head
        lines = [head]
        if self.reason:
            lines.append(f"  {self.reason}")
        if self.status is Status.ERROR:
            lines += ["  Error:", *_indent(self.message, 6)]
        if self.status in (Status.FAILED, Status.WARNING, Status.EXPECTED_FAILURE):
            lines += ["  Law:", *_indent(self.statement, 6)]
            if self.counterexample:
                label = (
                    "Minimal counterexample (shrunk by Hypothesis)" if self.shrunk else "Counterexample (not shrunk)"
                )
                lines += [f"  {label}:", *_indent(self.counterexample, 6)]
            if self.message:
                lines += ["  Expected vs got:", *_indent(self.message, 6)]
            if self.likely_cause:
                lines += ["  Likely cause:", *_indent(self.likely_cause, 6)]
            if self.repro:
                lines += ["  Reproduce:", *_indent(self.repro, 6)]
        return "\n".join(lines)


@dataclass
class Report:
    target: str
    contract: str
    convention: str
    numerics: str
    profile: str
    seed: int | None = None  # Hypothesis' seed: the same seed gives the same verdicts
    time_limit: float | None = None  # seconds each call of the target could take (None: no limit)
    preflight: list[str] = field(default_factory=list)  # problems found before any law
    notes: list[str] = field(default_factory=list)  # what the preflight found that changes how the laws run
    results: list[LawResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No law failed, none met an oracle error and the preflight passed (warnings and expected failures do not
        fail a target)."""
        return not self.preflight and all(r.status not in (Status.FAILED, Status.ERROR) for r in self.results)

    @property
    def verdict(self) -> str:
        """``"failed"`` (not :attr:`ok`), ``"warning"`` (no failure, but some law holds only to float32's accuracy
        on a float64 target: never reported as a pass) or ``"passed"``; for dashboards and the summary line."""
        if not self.ok:
            return "failed"
        return "warning" if any(r.status is Status.WARNING for r in self.results) else "passed"

    def counts(self) -> dict[str, int]:
        return {status.value: sum(r.status is status for r in self.results) for status in Status}

    def summary(self) -> str:
        counts = self.counts()
        shown = [s.value for s in Status if counts[s.value] or s in (Status.PASSED, Status.FAILED)]
        parts = ", ".join(f"{counts[s]} {s}" for s in shown)
        examples = sum(r.examples for r in self.results)
        timing = f"{examples:,} examples in {self.seconds:.1f} s"
        return f"{len(self.results)} laws: {parts}; {timing}; verdict: {self.verdict}"

    def render(self, compact: bool = False) -> str:
        """The whole report; ``compact`` keeps one line per law (pytest shows the failures already)."""
        limit = "no time limit" if self.time_limit is None else f"time limit {self.time_limit:g} s per call"
        settings = f"convention {self.convention}, {self.numerics}; profile {self.profile}, seed {self.seed}, {limit}"
        lines = [f"lineage oracle: {self.contract} = {self.target}  ({settings})"]
        lines += [f"Preflight: {note}" for note in self.notes]
        if self.preflight:
            lines += ["Preflight failed, so no law was run:", *(f"  - {p}" for p in self.preflight)]
        for result in self.results:
            lines.append(result.render().splitlines()[0] if compact else result.render())
            if compact and result.reason:
                lines.append(f"  {result.reason}")
        lines.append(self.summary())
        return "\n".join(lines)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["results"] = [r.to_dict() for r in self.results]
        data["verdict"], data["ok"], data["counts"] = self.verdict, self.ok, self.counts()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def raise_if_failed(self) -> None:
        if not self.ok:
            raise OracleFailure(self.render())


def build_report(
    target: Target,
    profile: str,
    problems: list[Problem],
    results: list[LawResult],
    seconds: float | None = None,
    *,
    seed: int | None = None,
    time_limit: float | None = None,
    notes: list[str] = (),
) -> Report:
    """The report of one target, as every entry point shows it (``seconds`` defaults to the laws' own time)."""
    numerics = f"{target.numerics.framework} {target.numerics.dtype}"
    report = Report(target.label, target.contract, target.convention.name, numerics, profile, seed, time_limit)
    report.preflight = [f"{p.check}: {p.message}" for p in problems]
    report.notes = list(notes)
    report.results = list(results)
    report.seconds = sum(r.seconds for r in results) if seconds is None else seconds
    return report


class OracleFailure(AssertionError):
    """Raised by :meth:`Report.raise_if_failed`; its message is the whole report."""


def _indent(text: str, width: int) -> list[str]:
    return [" " * width + line for line in text.splitlines()]
