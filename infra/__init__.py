"""The Pulumi program's building blocks: config, packaging, IAM documents and the pipeline."""
