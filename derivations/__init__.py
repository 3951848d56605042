"""SymPy derivations: each checks a residual that must simplify to zero (or, for an erratum of the notes, one
that must not). Not part of the installed package: run from a checkout (``nox -s verify``)."""
