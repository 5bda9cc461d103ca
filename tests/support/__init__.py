"""Helpers shared by the tests: data sets, oracles, process launchers (no tests of their own)."""
