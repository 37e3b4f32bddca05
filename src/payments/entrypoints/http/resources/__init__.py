"""Thin Falcon resources, one module per area: parse, call one use case, set status and media."""
