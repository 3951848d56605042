"""mutation/score.py: the mutation score counts unreached mutants against a module, honours only equivalence entries
whose mutant still changes the recorded line, and names every survivor with its changed line."""

import importlib.util
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("mutation_score", ROOT / "mutation" / "score.py")
score = sys.modules["mutation_score"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(score)

ORIGINAL = "    assert b\n    return a * b\n"
CHANGES = {
    1: "    assert b\n    return a / b\n",
    2: "    assert b\n    return a + b\n",
    3: "    assert b\n    return b * a\n",
    4: "    assert b\n    return a\n",
    5: "    assert b\n    return b\n",
    6: "    return a * b\n",
}
# killed, survived, (equivalent), no test reaches it, not run, survived
EXIT_CODES = {1: 1, 2: 0, 3: 0, 4: 33, 5: None, 6: 0}


def fake_run(tmp_path: pathlib.Path) -> pathlib.Path:
    """A mutants/ folder as mutmut 3 leaves it: the mutated module, its spans index and its exit codes."""
    mutants = tmp_path / "mutants"
    (mutants / "lineage").mkdir(parents=True)
    lines, spans = [], {}
    for name, body in [("x_mul__mutmut_orig", ORIGINAL), *((f"x_mul__mutmut_{n}", b) for n, b in CHANGES.items())]:
        body_lines = body.rstrip("\n").split("\n")
        spans[name] = [len(lines) + 1, len(lines) + 1 + len(body_lines)]
        lines += [f"def {name}(a, b):", *body_lines]
    (mutants / "lineage" / "ops.py").write_text("\n".join(lines) + "\n")
    (mutants / "lineage" / "ops.py.spans").write_text(json.dumps({"version": 1, "spans": spans}))
    codes = {f"lineage.ops.x_mul__mutmut_{n}": code for n, code in EXIT_CODES.items()}
    (mutants / "lineage" / "ops.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))
    return mutants


def test_score_counts_survivors_and_unreached_mutants_and_only_current_equivalences(tmp_path):
    mutants = fake_run(tmp_path)
    equivalent = tmp_path / "equivalent.toml"
    equivalent.write_text(
        '["lineage.ops.x_mul__mutmut_3"]\nline = "return b * a"\nreason = "multiplication commutes"\n'
        '["lineage.ops.x_mul__mutmut_2"]\nline = "return a - b"\nreason = "an entry about another change"\n'
    )
    (module,), stale = score.scores(mutants, equivalent)
    assert (module.module, module.mutants, module.equivalent, module.not_run) == ("lineage.ops", 6, 1, 1)
    assert module.killed == 1 and module.counted == 4 and module.score == 1 / 4, module
    assert module.survivors == [
        ("lineage.ops.x_mul__mutmut_2", "survived: return a + b"),
        ("lineage.ops.x_mul__mutmut_4", "no test reaches it: return a"),
        ("lineage.ops.x_mul__mutmut_6", "survived: (removed) assert b"),
    ], module.survivors
    assert stale == ["lineage.ops.x_mul__mutmut_2: the entry says 'return a - b', the mutant changes 'return a + b'"], (
        stale
    )


def test_an_entry_for_a_mutant_that_no_longer_exists_is_stale(tmp_path):
    equivalent = tmp_path / "equivalent.toml"
    equivalent.write_text('["lineage.ops.x_mul__mutmut_9"]\nline = "return a"\nreason = "gone"\n')
    _, stale = score.scores(fake_run(tmp_path), equivalent)
    assert stale == ["lineage.ops.x_mul__mutmut_9: no such mutant"], stale
