"""kapacitet: capacity-sharing optimisation for Danish cancer care (the command-line shell)."""

__version__ = "0.1.0"
