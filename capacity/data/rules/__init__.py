"""Versioned deadline rules (YAML), loaded by :func:`capacity.rules.load_rules`."""
