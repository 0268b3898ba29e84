"""Registry: structures, lieux, conseillers, territories and demand — the facts plans are made from."""
