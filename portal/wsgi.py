import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_application = get_wsgi_application()

from web.inputs import guard_wsgi  # noqa: E402 - after Django is set up

application = guard_wsgi(django_application)
