"""filetrail's security baseline as a Pulumi policy pack (`pulumi preview --policy-pack policy`)."""
