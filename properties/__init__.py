"""Hypothesis properties and oracle laws, shipped as ``lineage.properties``.

Laws are statements about *a target function* that satisfies one of lineage's contracts (lineage's own
implementation by default); the tests in this package bind them to lineage's implementations.
"""
