"""Entrypoints: the HTTP API, the command line and the sandbox wiring."""
