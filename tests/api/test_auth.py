"""The plugin API is mounted on Airflow's API server and authenticates every route itself."""
from __future__ import annotations

from domiland.api.app import create_app
from domiland.api.deps import get_principal
from domiland.api.keys import create_key, revoke_key


def test_staff_jwt_and_partner_keys(api_hub, make_org_in_api):
    org = make_org_in_api("uk-auth")
    assert api_hub.anonymous().get("/me").status_code == 401
    assert api_hub.anonymous().get("/me", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401
    me = api_hub.staff().get("/me")
    assert me.status_code == 200 and me.json() == {"kind": "staff", "name": "admin", "organization_id": None}
    key = create_key(org, "1C")
    assert api_hub.partner(key.key).get("/me").json()["organization_id"] == org
    assert api_hub.anonymous().get("/me", headers={"Authorization": f"Bearer {key.key}"}).status_code == 200
    assert api_hub.partner(key.key[:-2] + "xx").get("/me").status_code == 401
    assert revoke_key(key.id)
    assert api_hub.partner(key.key).get("/me").status_code == 401


def test_every_route_depends_on_the_principal():
    """Airflow does not protect plugin apps: a route without the dependency would be open."""
    app = create_app()
    open_routes = []
    for route in app.routes:
        if route.path in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"):
            continue
        calls = {d.call for d in _walk(route.dependant)}
        if get_principal not in calls:
            open_routes.append(route.path)
    assert open_routes == []


def _walk(dependant):
    for dep in dependant.dependencies:
        yield dep
        yield from _walk(dep)
