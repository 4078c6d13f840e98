"""Management commands of the standalone development host."""
