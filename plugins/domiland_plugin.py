"""Registers the hub with Airflow: the integration-log listener (and, later, the hub API)."""
from airflow.plugins_manager import AirflowPlugin

from domiland.airflow import listener


class DomilandPlugin(AirflowPlugin):
    name = "domiland"
    listeners = [listener]
