"""Contract suites: abstract pytest classes every implementation of a port must pass.

Subclass one in your own tests and provide its fixtures to hold your adapter to the promises
the domain relies on (they need the ``testing`` extra: ``pip install 'payments[testing]'``).
"""
