# The project on the official Airflow image: Java for Spark, the pinned packages, DAGs and jobs.
# One image for every Airflow component and for the Spark master and workers of docker-compose.yaml
# (PySpark's spark-class), so driver and executors run the same Spark and Python.
# No Docker engine runs on our CI machines: this file is checked statically only (see README).
FROM apache/airflow:3.3.2-python3.11

USER root
# Java 17 for Spark 4; Kerberos headers and gcc for the HDFS provider's Kerberos binding; Maven for
# the Delta Lake jars.
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless libkrb5-dev gcc maven \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /opt/oil/var \
    && chown airflow:root /opt/oil/var
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64

USER airflow
COPY --chown=airflow:root requirements.txt constraints.txt /opt/oil/
RUN pip install --no-cache-dir -r /opt/oil/requirements.txt -c /opt/oil/constraints.txt

COPY --chown=airflow:root include/ /opt/oil/include/
COPY --chown=airflow:root spark_jobs/ /opt/oil/spark_jobs/
COPY --chown=airflow:root conf/ /opt/oil/conf/
# The Delta Lake jars every job runs with (settings.DELTA_JARS_DIR), fetched at build time, as make setup does.
RUN mvn -q -B -f /opt/oil/conf/delta/pom.xml dependency:copy-dependencies -DoutputDirectory=/opt/oil/var/delta/lib
COPY --chown=airflow:root dags/ /opt/oil/dags/
COPY --chown=airflow:root plugins/ /opt/oil/plugins/

# /opt/oil/var (sample data, local storage) is the only folder of the project the image writes.
ENV PYTHONPATH=/opt/oil \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/oil/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/oil/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    SPARK_CONF_DIR=/opt/oil/conf/spark \
    OIL_STORAGE_ROOT=file:///opt/oil/var/storage
