"""Adapters: the outside world (providers, databases, clocks) behind the domain's ports."""
