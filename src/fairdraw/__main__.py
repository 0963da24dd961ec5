"""``python -m fairdraw``."""

from fairdraw.cli import main

main()
