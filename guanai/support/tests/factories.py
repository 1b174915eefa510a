"""Small builders for support tests: providers, their users, services with areas."""

from __future__ import annotations

from conftest import DISTRICT, make_user
from guanai.accounts.models import User
from guanai.lib import regioncode
from guanai.support.models import Need, Provider, ProviderMember, Service, ServiceArea


def make_provider(name: str = "阳光社工", region: str = DISTRICT, kind: str = "social_org") -> Provider:
    return Provider.objects.create(
        name=name, kind=kind, region_id=region, contact_name="陈社工", contact_phone="023-1234"
    )


def make_provider_user(provider: Provider, username: str) -> User:
    user = make_user("social_worker", provider.region_id, username)
    ProviderMember.objects.create(user=user, provider=provider)
    return user


def make_service(
    provider: Provider,
    name: str,
    *,
    domains: list[str],
    areas: list[str],
    capacity: int = 10,
    **fields: object,
) -> Service:
    service = Service.objects.create(provider=provider, name=name, domains=domains, capacity=capacity, **fields)
    for code in areas:
        level = regioncode.level_of(code)
        ServiceArea.objects.create(service=service, prefix=regioncode.prefix(code, level), level=level)
    return service


def make_need(child, domain: str = "psychological", severity: int = 3, key: str | None = None, **fields) -> Need:
    return Need.objects.create(
        child=child,
        domain=domain,
        severity=severity,
        source=fields.pop("source", "manual"),
        key=key or f"manual:{domain}:{severity}:{Need.objects.count()}",
        title=fields.pop("title", f"{domain}需求"),
        created_on=fields.pop("created_on", __import__("datetime").date(2026, 3, 1)),
        **fields,
    )
