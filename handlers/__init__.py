"""filetrail's Lambda package: S3 notifications in, an immutable audit trail out."""
