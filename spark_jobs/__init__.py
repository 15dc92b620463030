"""One Spark application per file; each runs on its own with spark-submit."""
