"""spec/vectors/globs.json, checked against an independent matcher (fnmatch)."""

from __future__ import annotations

import fnmatch

from conftest import load_vectors


def test_glob_vectors_agree_with_fnmatch() -> None:
    cases = load_vectors("globs")["vectors"]
    assert len(cases) > 30
    for case in cases:
        if "[" in case["pattern"]:  # fnmatch reads classes; topic globs have none
            continue
        assert fnmatch.fnmatchcase(case["topic"], case["pattern"]) is case["match"], case
