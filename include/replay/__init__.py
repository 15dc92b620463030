"""The sample data and the replay of the sensor file as file drops (plain Python, no Spark)."""
