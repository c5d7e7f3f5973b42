"""Local stand-ins of the third-party APIs the platform calls (Meta's Graph API), following
their documented contracts and recording what they are sent; used by `make up` and by tests."""
