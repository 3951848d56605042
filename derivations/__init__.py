"""SymPy derivations, shipped as ``lineage.derivations``: each checks a residual that must simplify to
zero (or, for an erratum of the notes, one that must not)."""
