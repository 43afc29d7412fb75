"""Migration scripts, one a file, applied in revision order."""
