"""``python -m experiments`` runs the command line."""

from experiments.cli import main

main()
