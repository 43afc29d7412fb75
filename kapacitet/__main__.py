"""`python -m kapacitet` runs the command line."""

from kapacitet.cli import main

main()
