"""The system admin site (Django admin): hostile search, ordering, paging and filter
parameters on every registered model's list, hostile object IDs on its pages."""

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import difference, signed_in, snapshot
from tests.security.portal_requests import pairs, query_text
from tests.security.strategies import percent, query_string

HOSTILE = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MODELS = [
    pytest.param(model, id=f"{model._meta.app_label}.{model._meta.model_name}")
    for model in admin.site._registry
]
LIST_PARAMS = {"q": ["a"], "o": ["1", "-2", "1.2"], "p": ["1", "2"], "all": [""], "e": ["1"]}


@pytest.mark.parametrize("model", MODELS)
@HOSTILE
@given(data=st.data())
def test_no_admin_list_or_object_page_gets_a_server_error_or_changes_anything(world, model, data):
    client = signed_in(world.root)
    base = f"/{django_settings.SYSTEM_ADMIN_PATH}{model._meta.app_label}/{model._meta.model_name}/"
    query = data.draw(pairs(LIST_PARAMS, world))
    # A filter on a field name of the model, with a hostile value.
    field = data.draw(st.sampled_from([f.name for f in model._meta.fields]))
    lookup = data.draw(st.sampled_from(["", "__exact", "__gte", "__isnull", "__in", "__id"]))
    query.append((field + lookup, data.draw(query_text())))
    object_id = percent(data.draw(query_text()))
    before = snapshot()
    for url in [
        f"{base}?{query_string(query)}",
        f"{base}{object_id}/change/",
        f"{base}{object_id}/history/",
        f"{base}{object_id}/delete/",
    ]:
        response = client.get(url)
        assert response.status_code < 500, (url[:300], response.status_code)
    assert not difference(before, snapshot())
