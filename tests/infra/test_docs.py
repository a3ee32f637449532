import re

import yaml

from tests.infra.harness import REPO_ROOT


def _documented_defaults() -> dict[str, str]:
    text = (REPO_ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| \w+ \| `([^`]*)` \|", text, flags=re.MULTILINE)
    return dict(rows)


def test_deploy_guide_lists_every_setting_with_its_default() -> None:
    declared = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())["config"]
    expected = {
        key: '""'
        if spec["default"] == ""
        else str(spec["default"]).replace("True", "true").replace("False", "false")
        for key, spec in declared.items()
    }
    assert _documented_defaults() == expected
