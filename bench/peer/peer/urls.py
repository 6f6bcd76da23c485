from django.http import JsonResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_api_key.models import APIKey
from rest_framework_api_key.permissions import BaseHasAPIKey, KeyParser


class BearerKeyParser(KeyParser):
    keyword = "Bearer"  # as Keyward's clients send it


class HasAPIKey(BaseHasAPIKey):
    model = APIKey
    key_parser = BearerKeyParser()


def health(request):
    """The floor: a plain Django view behind the same middleware."""
    return JsonResponse({"status": "ok"})


class Me(APIView):
    """The peer's authenticated call: one lookup by prefix and a hash check per request."""

    permission_classes = [HasAPIKey]

    def get(self, request):
        key = HasAPIKey().get_key(request)
        prefix, _, _ = key.partition(".")
        return Response({"prefix": prefix})


urlpatterns = [path("health", health), path("me", Me.as_view())]
