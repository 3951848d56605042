"""The laws engine: claims of the notes stated about *a target function*, runnable against any implementation.

* :mod:`~lineage.laws.law` — :class:`Law`, :class:`LawViolation`, ``Law.verify``, the law registry
  :data:`LAWS` and :func:`expect_close`;
* :mod:`~lineage.laws.contracts` — each contract's arguments, output, exact form and reference implementation
  (:data:`CONTRACTS`), and :func:`call`, which hands a case to a target and reads its output back;
* :mod:`~lineage.laws.cases` — the case types and their strategies; :mod:`~lineage.laws.exact` — the exact
  forms; :mod:`~lineage.laws.tolerance` and :mod:`~lineage.laws.profiles` — allowances and Hypothesis settings;
* one module per family of laws: :mod:`~lineage.laws.returns`, :mod:`~lineage.laws.gae_expectation`,
  :mod:`~lineage.laws.losses`, :mod:`~lineage.laws.kl`, :mod:`~lineage.laws.rlhf`,
  :mod:`~lineage.laws.normalization`, :mod:`~lineage.laws.pg` (listed in :data:`LAWS`, which imports them when
  first read).

lineage's own Hypothesis properties bind every law to lineage's implementation (``properties/``); the oracle
(:mod:`lineage.oracle`) binds the same laws to other people's code.
"""

from lineage.laws.contracts import CONTRACTS, Contract, call
from lineage.laws.law import LAWS, Law, LawViolation, expect_close, law, laws_for

__all__ = ["CONTRACTS", "LAWS", "Contract", "Law", "LawViolation", "call", "expect_close", "law", "laws_for"]
