"""Wire primitives every provider shares: webhook signing, notification JSON, transport faults."""
