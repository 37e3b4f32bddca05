"""Wire primitives every provider adapter shares: webhook signing and HTTP transport faults."""
