"""Which replica a request goes to, where that matters: plain rules (Ray shells: deployments/)."""
