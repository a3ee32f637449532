"""Reproducible measurements of filetrail's handler against a naive baseline (`python -m bench`)."""
