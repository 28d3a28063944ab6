"""Session fixtures: one small retail world, its training sets and inference logs."""

from __future__ import annotations

import pandas as pd
import pytest

from governance.demo import retail

SEED = 42
SCALE = retail.SCALES["small"]


@pytest.fixture(scope="session")
def ref() -> dict[str, pd.DataFrame]:
    """Reference tables of the small world."""
    return retail.generate_reference(SEED, SCALE)


@pytest.fixture(scope="session")
def training(ref: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Training set per model."""
    return retail.build_training_sets(ref)


@pytest.fixture(scope="session")
def logs(ref: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Eight weeks of inference logs per model."""
    return retail.generate_inference_logs(ref, SEED, SCALE)
