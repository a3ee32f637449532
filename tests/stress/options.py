"""`--run-stress`: the stress scenarios at full size (`make stress`); small sizes otherwise.

A plugin rather than a conftest hook, because pytest only asks the initial conftests
(the rootdir's) for command-line options, and tests/conftest.py belongs to everyone.
"""

from __future__ import annotations

import pytest

RUN_STRESS = "--run-stress"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        RUN_STRESS,
        action="store_true",
        default=False,
        help="run the stress/bench scenarios at full size (make stress)",
    )


def full_size(config: pytest.Config) -> bool:
    return bool(config.getoption(RUN_STRESS))
