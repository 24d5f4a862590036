"""Domiland integration hub: every DAG here is generated from the hub's block settings.

Airflow's safe mode skips files that do not mention both words "airflow" and
"dag"; this shim mentions them and does nothing else.
"""
from domiland.airflow.factory import register_dags

register_dags(globals())
