"""The three Tournées services: registry, scheduling, notifications."""
