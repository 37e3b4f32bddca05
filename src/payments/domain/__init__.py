"""The pure payments domain: standard library only."""
