"""The dashboard's templates and static files reach a non-editable install."""

from __future__ import annotations

import tomllib
from pathlib import Path

import filetrail.ui

PACKAGE = Path(filetrail.ui.__file__).parent
ROOT = Path(__file__).resolve().parents[2]


def test_package_data_names_every_template_and_static_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["filetrail.ui"]
    shipped = {path for pattern in patterns for path in PACKAGE.glob(pattern)}
    needed = {
        path
        for folder in ("templates", "static")
        for path in (PACKAGE / folder).rglob("*")
        if path.is_file()
    }

    assert needed - shipped == set()
