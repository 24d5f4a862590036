"""Registers the hub with Airflow: the integration-log listener and the hub API (``/integrations``)."""
from airflow.plugins_manager import AirflowPlugin

from domiland.airflow import listener
from domiland.api.app import PREFIX, create_app


class DomilandPlugin(AirflowPlugin):
    name = "domiland"
    listeners = [listener]
    fastapi_apps = [{"app": create_app(), "url_prefix": PREFIX, "name": "Domiland integration hub API"}]
    external_views = [{"name": "Integration log / Журнал интеграции", "href": f"{PREFIX}/ui/log",
                       "url_route": "integration-log", "category": "browse", "destination": "nav"}]
