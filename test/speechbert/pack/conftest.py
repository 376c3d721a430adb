"""Fixtures of the packed-model tests: one trained tiny system and its archive per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pack_fixture as pf  # noqa: E402


@pytest.fixture(scope="session")
def system(tmp_path_factory) -> dict[str, Path]:
    """A trained tiny system (``exp``, ``aligner``, ``results``) and its archive ``zip``."""
    from speechbert.pack.model_pack import pack_model

    s = pf.make_system(tmp_path_factory.mktemp("pack_system"))
    s["zip"] = pack_model(s["exp"], s["root"] / "model.zip", results=s["results"]).path
    return s
