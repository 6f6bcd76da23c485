"""The OpenAPI documents of the three APIs."""

from django.http import HttpRequest, HttpResponse

from api.openapi import document, provider_document, system_document
from gateway.endpoint import ok, public_get


@public_get
def openapi(request: HttpRequest, environment: str) -> HttpResponse:
    return ok(document(environment))


@public_get
def provider_openapi(request: HttpRequest) -> HttpResponse:
    return ok(provider_document())


@public_get
def system_openapi(request: HttpRequest) -> HttpResponse:
    return ok(system_document())
