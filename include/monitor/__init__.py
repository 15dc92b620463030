"""What the pump monitor of the Airflow api-server shows (plugins/pump_monitor.py); no Spark."""
