"""The filetrail operator command and its local mode on an embedded AWS emulator."""
