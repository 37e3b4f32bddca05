"""payments: one domain model of money, purchases, credits and refunds behind many providers."""

__version__ = "0.1.0"
