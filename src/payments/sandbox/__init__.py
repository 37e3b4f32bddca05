"""Providers' stand-ins served over HTTP in sandbox mode: simulators, their controller, loopback."""
