"""Fixtures of the integration tests: the three services in-process (``services_stack``)."""

from tests.integration.services_stack import clients, template

__all__ = ["clients", "template"]
