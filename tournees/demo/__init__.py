"""The demo: real territories from the field reports, set up and planned through the public APIs."""
