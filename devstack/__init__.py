"""The dev stack: local HDFS, Spark cluster and Airflow, for development, tests and CI (not the pipeline)."""
