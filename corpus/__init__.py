"""An outside-style corpus of targets for the oracle (not shipped with lineage).

Each module is code as a user of one library would write it in their own project: correct implementations in
several styles, implementations with subtle realistic mistakes, and broken ones (raise, hang, wrong shape, write
into their inputs ...). ``corpus/manifest.py`` lists every target with its contract, convention and what the oracle
is expected to say; ``benchmarks/bench_corpus.py`` runs them all and ``tests/test_corpus.py`` a fast subset.
"""
