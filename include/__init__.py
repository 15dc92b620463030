"""Modules shared by the DAGs, the Spark jobs and the tests."""
