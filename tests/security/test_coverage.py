"""Every URL pattern of the portal has hostile-input tests: a new page or endpoint fails
here until it is added to targets.py."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from tests.security.targets import API, EXEMPT, PORTAL


def _patterns(resolvers, namespace=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name or entry.pattern}"


def test_every_url_pattern_has_a_hostile_input_target():
    covered = {target.name for target in [*PORTAL, *API]}
    exempt_namespaces = {name[:-1] for name in EXEMPT if name.endswith(":*")}
    missing = [
        name
        for name in _patterns(get_resolver().url_patterns)
        if name not in covered and name.split(":")[0] + ":" not in exempt_namespaces
    ]
    assert not missing, f"URL patterns without a hostile-input target in targets.py: {missing}"


def test_every_target_names_a_url_pattern_that_exists():
    names = set(_patterns(get_resolver().url_patterns))
    stale = [target.name for target in [*PORTAL, *API] if target.name not in names]
    assert not stale, stale


def test_the_admin_site_has_models_for_its_hostile_input_test():
    assert admin.site._registry, "test_admin_hostile.py walks the admin registry"
