"""Scheduling: plans of permanences across communes, from its local copy of the registry."""
