"""Package data shipped with capacity: versioned rules files."""
