"""Stateful behaviour: what happens to stored objects (subscribing, invoicing, test clocks, metering,
events), below the HTTP handlers and above the store."""
