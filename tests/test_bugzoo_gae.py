"""The GAE laws have teeth: each bug-zoo entry is rejected by the law its metadata names, with a
minimal counterexample, while lineage's own GAE passes the same law."""

import pytest

import lineage
from lineage.bugzoo import BUGS
from lineage.properties.law import LawViolation, registered_laws

GAE_BUGS = [b for b in BUGS.values() if b.contract == "gae"]
LAWS = registered_laws()


@pytest.mark.parametrize("entry", GAE_BUGS, ids=lambda b: b.name)
def test_named_law_rejects_the_bug(entry):
    law = LAWS[entry.caught_by]
    with pytest.raises(LawViolation) as caught:
        law.verify(entry.function)
    violation = caught.value
    assert violation.index is not None or "shape" in str(violation), str(violation)
    assert any(law.id in note for note in violation.__notes__), "the report names the law"


@pytest.mark.parametrize("law_id", sorted({b.caught_by for b in GAE_BUGS}))
def test_lineage_gae_passes_the_same_laws(law_id):
    LAWS[law_id].verify(lineage.gae)


@pytest.mark.parametrize(
    ("law_id", "entry"),
    [
        ("gae.lambda_zero_is_td_error", "lambda_missing_from_recursion"),
        ("gae.lambda_one_is_monte_carlo", "gamma_missing_from_recursion"),
        ("gae.final_value_enters_with_its_weight", "truncation_as_termination"),
    ],
)
def test_limit_and_truncation_laws_fail_loudly_on_a_broken_gae(law_id, entry):
    """The λ = 0, λ = 1 and terminated-vs-truncated laws each reject a deliberately broken GAE, and the
    report carries the law, the expected and actual advantages and the first differing step."""
    with pytest.raises(LawViolation) as caught:
        LAWS[law_id].verify(BUGS[entry].function)
    report = "\n".join([str(caught.value), *caught.value.__notes__])
    for fragment in ("first difference at index", "expected", "got", "case=SegmentCase(", law_id):
        assert fragment in report, f"{fragment!r} missing from the report:\n{report}"
