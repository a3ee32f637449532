"""`filetrail ui`: the CLI's read side and its two actions, served as HTML on loopback."""
