import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest

from accounts.models import User
from apikeys.models import ApiKey, Environment, Expiration, Scope, Status

SORTS = {
    "name": ("name", "Name"),
    "created": ("created_at", "Created"),
    "updated": ("updated_at", "Last updated"),
    "expires": ("expires_on", "Expires"),
    "last_used": ("last_used_at", "Last used"),
}


NULLABLE = {"expires_on", "last_used_at"}


def _owners(request: HttpRequest | None) -> QuerySet[User]:
    membership = getattr(request, "membership", None)
    if membership is None:
        return User.objects.none()
    return User.objects.filter(memberships__tenant=membership.tenant).order_by("email")


class ApiKeyFilter(django_filters.FilterSet):
    """Narrows the console's queryset (which already starts from the tenant); never widens it."""

    q = django_filters.CharFilter(method="search", label="Search", max_length=100)
    status = django_filters.ChoiceFilter(
        choices=Status.choices, method="filter_status", empty_label="Any status", label="Status"
    )
    environment = django_filters.ChoiceFilter(
        choices=Environment.choices, empty_label="Any environment", label="Environment"
    )
    expiration = django_filters.ChoiceFilter(
        choices=Expiration.choices,
        method="filter_expiration",
        empty_label="Any expiration",
        label="Expiration",
    )
    # A text box rather than a select: a tenant may have thousands of members. Not an email
    # input: the browser would silently refuse a part of an address on Tab (no request, no word).
    owner = django_filters.CharFilter(
        method="filter_owner",
        label="Owner",
        max_length=254,
        widget=forms.TextInput(
            attrs={
                "placeholder": "Email or part of it",
                "inputmode": "email",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
    permission = django_filters.ChoiceFilter(
        choices=Scope.choices,
        method="filter_permission",
        empty_label="Any permission",
        label="Permission",
    )
    sort = django_filters.ChoiceFilter(
        choices=[("name", "Name A to Z"), ("-name", "Name Z to A")]
        + [
            (f"{prefix}{key}", f"{label}, {'newest' if prefix else 'oldest'} first")
            for key, (_, label) in SORTS.items()
            if key != "name"
            for prefix in ("-", "")
        ],
        method="sort_by",
        empty_label="Newest first",
        label="Sort",
    )

    class Meta:
        model = ApiKey
        fields = ["q", "status", "environment", "expiration", "owner", "permission", "sort"]

    def search(self, queryset: QuerySet[ApiKey], name: str, value: str) -> QuerySet[ApiKey]:
        value = value.strip()
        if not value:
            return queryset
        # Owners are matched among the tenant's members first: no join over every key.
        owners = _owners(self.request).filter(email__icontains=value).values("pk")
        return queryset.filter(
            Q(name__icontains=value) | Q(key_id__startswith=value) | Q(owner__in=owners)
        )

    def filter_status(self, queryset, name: str, value: str):
        return queryset.with_status(value)

    def filter_expiration(self, queryset, name: str, value: str):
        return queryset.with_expiration(value)

    def filter_owner(self, queryset, name: str, value: str):
        value = value.strip()
        if not value:
            return queryset
        # Matched among the tenant's members first (as the search does): no join over every key.
        return queryset.filter(owner__in=_owners(self.request).filter(email__icontains=value))

    def filter_permission(self, queryset, name: str, value: str):
        return queryset.with_scope(value)

    def sort_by(self, queryset, name: str, value: str):
        field = SORTS[value.lstrip("-")][0]
        descending = value.startswith("-")
        if field in NULLABLE:
            # Keys never used (or never expiring) go last either way.
            order = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
        else:
            order = F(field).desc() if descending else F(field).asc()
        return queryset.order_by(order, "-id" if descending else "id")
