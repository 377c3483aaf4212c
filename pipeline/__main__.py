"""``python -m pipeline`` runs the bwv command line."""

from pipeline.cli import main

main()
