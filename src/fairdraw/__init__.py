"""fairdraw: provably fair prize draws, raffles and daily lotteries."""

__version__ = "0.1.0"
