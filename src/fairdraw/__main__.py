"""``python -m fairdraw``."""

from fairdraw.cli import main

# Guarded: worker processes (sealing large ledgers) import the main module again.
if __name__ == "__main__":
    main()
