"""The outside-style corpus stays meaningful: its manifest is well formed, and a stratified handful of its targets
gets the verdict its kind calls for (``oracle-quick``, derandomized). The whole corpus, hanging and exiting targets
included, runs in subprocesses with a time limit in ``nox -s corpus`` (benchmarks/bench_corpus.py)."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

from corpus.manifest import HAZARDS, KINDS, MANIFEST
from lineage.laws.contracts import CONTRACTS
from lineage.oracle import CONVENTIONS, check
from lineage.oracle.targets import make_target

ROOT = pathlib.Path(__file__).resolve().parent.parent
BY_NAME = {entry.name: entry for entry in MANIFEST}


@pytest.fixture(autouse=True)
def derandomized(monkeypatch):
    monkeypatch.setenv("CI", "1")


# --------------------------------------------------------------------------------------------------
# The manifest
# --------------------------------------------------------------------------------------------------
def test_manifest_entries_are_unique_and_well_formed():
    assert len(BY_NAME) == len(MANIFEST)
    for entry in MANIFEST:
        assert entry.kind in KINDS and entry.hazard in HAZARDS, entry
        assert entry.contract in CONTRACTS and entry.convention in CONVENTIONS, entry
        assert entry.spec.startswith("corpus."), entry
        assert (entry.kind == "correct") != bool(entry.description), f"{entry.name}: describe every mistake, only those"
        assert entry.hazard is None or entry.kind == "broken", entry


def test_every_entry_resolves_in_its_convention():
    for entry in MANIFEST:
        make_target(
            entry.contract, entry.spec, convention=entry.convention, framework=entry.framework, dtype=entry.dtype
        )


def test_the_corpus_covers_every_contract_and_ten_conventions():
    """Every contract has a correct and a buggy target; ten conventions at least; all three kinds."""
    for contract in CONTRACTS:
        kinds = {entry.kind for entry in MANIFEST if entry.contract == contract}
        assert {"correct", "buggy"} <= kinds, contract
    assert len({entry.convention for entry in MANIFEST}) >= 10
    assert {entry.kind for entry in MANIFEST} == set(KINDS)


# --------------------------------------------------------------------------------------------------
# A stratified subset through the oracle (fast; no hazards)
# --------------------------------------------------------------------------------------------------
SUBSET = {
    "correct": [
        "gae=cleanrl_style:compute_gae[cleanrl]",
        "gae=tianshou_style:gae_buffer_loop[tianshou]",
        "ppo_clip_loss=canonical_losses:ppo_loss_cleanrl[canonical]",
        "token_rewards=trl_style:compute_rewards[trl]",
        "normalize_advantages=canonical_losses:normalize_advantages_baselines[canonical]",
    ],
    "buggy": [
        "gae=cleanrl_style:compute_gae_dones_current_step[cleanrl]",
        "discounted_returns=spinningup_style:finish_path_returns_filter_swapped[spinningup]",
        "kl_k3=canonical_losses:kl_k3_mixed_direction[canonical]",
        "adapt_kl_coef=canonical_losses:adapt_kl_coef_no_band[canonical]",
        "ppo_clip_loss=trl_style:policy_loss_unmasked_mean[trl]",
    ],
    "broken": [
        "gae=tianshou_style:gae_inplace_rewards[tianshou]",
        "gae=broken:gae_cleanrl_signature[canonical]",
        "gae=broken:gae_returns_dict[canonical]",
    ],
}


def run(name: str):
    entry = BY_NAME[name]
    assert entry.hazard is None, name
    report = check(
        entry.contract,
        entry.spec,
        convention=entry.convention,
        framework=entry.framework,
        dtype=entry.dtype,
        profile="oracle-quick",
    )
    return entry, report


@pytest.mark.parametrize("name", SUBSET["correct"])
def test_a_correct_target_passes(name):
    _, report = run(name)
    assert report.ok and not report.counts()["warning"], report.render()


@pytest.mark.parametrize("name", SUBSET["buggy"])
def test_a_buggy_target_fails_a_law(name):
    """A mistake is caught by a law, not by the preflight: the target runs, its numbers are wrong."""
    _, report = run(name)
    assert not report.preflight and report.counts()["failed"], report.render()


@pytest.mark.parametrize("name", SUBSET["broken"])
def test_a_broken_target_is_reported_without_lineage_internals(name):
    _, report = run(name)
    assert not report.ok, report.render()
    text = report.render()
    assert "Traceback" not in text and str(ROOT / "lineage") not in text, text


# --------------------------------------------------------------------------------------------------
# The benchmark's bookkeeping (no subprocess)
# --------------------------------------------------------------------------------------------------
def bench_module():
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "benchmarks" / "bench_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_classifies_each_outcome():
    bench = bench_module()
    correct = BY_NAME["gae=cleanrl_style:compute_gae[cleanrl]"]
    buggy = BY_NAME[SUBSET["buggy"][0]]
    hang = next(entry for entry in MANIFEST if entry.hazard == "hangs")

    def report(ok: bool, warnings: int = 0, message: str = "") -> dict:
        status = "passed" if ok else "failed"
        law = {"law": "gae.x", "status": status, "message": message, "reason": "", "repro": "", "likely_cause": ""}
        return {"ok": ok, "counts": {"warning": warnings}, "preflight": [], "results": [law], "seconds": 1.0}

    rows = [
        bench.summarise(correct, {"wall_seconds": 1.0, "report": report(True)}),
        bench.summarise(correct, {"wall_seconds": 1.0, "report": report(True, warnings=1)}),
        bench.summarise(buggy, {"wall_seconds": 1.0, "report": report(True)}),
        bench.summarise(buggy, {"wall_seconds": 1.0, "report": report(False)}),
        bench.summarise(hang, {"wall_seconds": 120.0, "timeout": 120.0}),
        bench.summarise(hang, {"wall_seconds": 1.0, "exception": {"type": "SystemExit", "message": "1"}}),
        bench.summarise(buggy, {"wall_seconds": 1.0, "report": report(False, message=f"at {ROOT}/lineage/x.py:1")}),
    ]
    assert [row["outcome"] for row in rows] == [
        "ok",
        "FALSE ALARM (warning)",
        "MISSED",
        "killed",
        "ORACLE ERROR",
        "ORACLE ERROR",
        "ORACLE ERROR (internals shown; would be: killed)",
    ]
    figures = bench.figures(rows, 1.0)
    assert (figures["false_alarms"], figures["buggy_missed"], figures["buggy_killed"]) == (1, 1, 1)
    assert figures["oracle_errors"] == 3
    assert figures["oracle_errors_by_cause"] == {"timeout": 1, "exception": 1, "internals shown": 1}
