"""What the DAGs import at parse time and their tasks at run time (Airflow only; never shipped to Spark)."""
