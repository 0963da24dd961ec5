"""Shared test helpers; ``tests.support.store`` is a pytest plugin providing the store."""
