"""Use cases: each runs in units of work and never holds a transaction open across provider I/O."""
