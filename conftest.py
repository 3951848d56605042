"""lineage's own test run: the claim markers, Hypothesis profiles and the per-claim verdicts of properties/ledger.py."""

pytest_plugins = ["properties.ledger"]
