"""hubasync.cli."""
