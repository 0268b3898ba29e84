"""The typed catalogue of events exchanged between the services, and their envelope."""

from shared.events.catalogue import *  # noqa: F403 - the catalogue is this package's API
from shared.events.catalogue import CATALOGUE as CATALOGUE
from shared.events.envelope import Envelope as Envelope
from shared.events.envelope import Event as Event
from shared.events.envelope import InvalidEvent as InvalidEvent
from shared.events.envelope import parse_envelope as parse_envelope
