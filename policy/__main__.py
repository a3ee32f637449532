"""The policy pack entry point: `pulumi preview --policy-pack policy`."""

import sys
from pathlib import Path

from pulumi_policy import PolicyPack

# Pulumi runs the pack as a script from this directory; the rules live in the `policy`
# package so tests can import them, which needs the repository root on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy.pack import PACK_DESCRIPTION, PACK_NAME, policies

PolicyPack(name=PACK_NAME, description=PACK_DESCRIPTION, policies=policies())
