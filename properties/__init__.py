"""lineage's own Hypothesis properties: the laws bound to lineage's implementations, and the theory.

Not part of the installed package: run from a checkout (``nox -s verify``)."""
