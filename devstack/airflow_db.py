"""Connect arguments of Airflow's SQLite metadata database, named by the stack's Airflow configuration.

devstack/airflow_stack.py sets AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS(_ASYNC) to
``devstack.airflow_db.SQLITE_CONNECT_ARGS`` on SQLite: every Airflow component imports this module,
so it imports nothing.
"""

# SQLite has one writer at a time: four components and the CLI wait up to a minute for the lock
# (sqlite3's default is 5 s, which a loaded machine exceeds: "database is locked").
SQLITE_CONNECT_ARGS = {"timeout": 60}
