"""What the tests and the benchmarks check the pipeline with: the plain-Python oracle, the replay's
expectations and readers of checkpoints, a line server for the socket job. Independent of the pipeline
code it checks (no include.*, no spark_jobs.*)."""
