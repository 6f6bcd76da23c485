"""Create N API keys (real secrets, real hashes) for the benchmarks; print the secrets' file.

    .venv/bin/python bench/make_keys.py --count 100000 --out var/bench-keys.txt

Uses the database and pepper of the environment it runs in (DATABASE_URL / SQLITE_PATH,
API_KEY_PEPPER), in a tenant `loadtest` with API keys enabled. Idempotent for a given --out:
keys already listed there are kept.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--empty-log",
        action="store_true",
        help="delete tenant loadtest's request log and daily counts (each run starts alike)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    ensure_keys(args.count, args.out)
    if args.empty_log:
        empty_log()


def empty_log() -> None:
    """A log grown by earlier runs makes every insert dearer: start each benchmark empty."""
    from apikeys.models import KeyUsageDay, RequestLog

    deleted, _ = RequestLog.objects.filter(tenant__slug="loadtest").delete()
    KeyUsageDay.objects.filter(tenant__slug="loadtest").delete()
    print(f"emptied the load-test tenant's request log ({deleted:,} entries)")


def ensure_keys(count: int, out: Path) -> list[str]:
    """At least `count` keys of tenant `loadtest` whose secrets are listed in `out`."""
    from django.core.management import call_command

    from accounts.models import User
    from apikeys import keyformat
    from apikeys.models import ApiKey, Scope
    from tenants.models import Membership, Tenant, TenantSettings

    call_command("migrate", verbosity=0)
    tenant, _ = Tenant.objects.get_or_create(slug="loadtest", defaults={"name": "Load test"})
    TenantSettings.objects.update_or_create(tenant=tenant, defaults={"api_keys_enabled": True})
    owner, _ = User.objects.get_or_create(email="loadtest@bench.test")
    Membership.objects.get_or_create(user=owner, tenant=tenant, defaults={"is_developer": True})

    existing = out.read_text().split() if out.exists() else []
    known = set(ApiKey.objects.filter(tenant=tenant).values_list("key_id", flat=True).iterator())
    keys = [k for k in existing if keyformat.parse(k) and keyformat.parse(k).key_id in known]
    started = time.perf_counter()
    scopes = " ".join(Scope.values)
    while len(keys) < count:
        batch = []
        for _ in range(min(5000, count - len(keys))):
            secret = keyformat.generate("live")
            keys.append(secret)
            batch.append(
                ApiKey(
                    tenant=tenant,
                    owner=owner,
                    key_id=keyformat.parse(secret).key_id,
                    name=f"bench {len(keys)}",
                    environment="production",
                    scopes=scopes,
                    rate_limit=100_000,
                    secret_hash=keyformat.hash_key(secret),
                )
            )
        ApiKey.objects.bulk_create(batch)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(keys[:count]) + "\n")
    took = time.perf_counter() - started
    print(f"{count:,} keys in {out} ({took:.1f}s to make new ones)")
    return keys[:count]


if __name__ == "__main__":
    main()
