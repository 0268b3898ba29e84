"""The ``tournees`` command: run the services together, the demo, migrations."""
