"""Create N djangorestframework-api-key keys in the peer's database; write them to --out.

    cd bench/peer
    ../../.venv/bin/python make_keys.py --count 100000 --out ../../var/peer-keys.txt

Keys are made as `APIKey.objects.create_key` makes them (its generator and hasher), in
batches. Idempotent for a given --out: keys already listed there and present are kept.
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework_api_key.models import APIKey

    call_command("migrate", verbosity=0)
    existing = args.out.read_text().split() if args.out.exists() else []
    known = set(APIKey.objects.values_list("prefix", flat=True).iterator())
    keys = [k for k in existing if k.partition(".")[0] in known]
    generator = APIKey.objects.key_generator
    started = time.perf_counter()
    while len(keys) < args.count:
        batch = []
        for _ in range(min(5000, args.count - len(keys))):
            key, prefix, hashed_key = generator.generate()
            keys.append(key)
            batch.append(
                APIKey(
                    id=f"{prefix}.{hashed_key}",
                    prefix=prefix,
                    hashed_key=hashed_key,
                    name=f"bench {len(keys)}",
                )
            )
        APIKey.objects.bulk_create(batch)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(keys[: args.count]) + "\n")
    took = time.perf_counter() - started
    print(f"{args.count:,} peer keys in {args.out} ({took:.1f}s to make new ones)")


if __name__ == "__main__":
    main()
