"""`python -m rentmanager.fake --port 8470 --seed seed.json` (or `--generate P,U,T`)."""

from __future__ import annotations

import argparse
import json

from . import seed as seeds
from .server import FakeRentManager


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rentmanager.fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8470)
    parser.add_argument("--seed", help="a JSON seed file (rentmanager/fake/seed.py says its shape)")
    parser.add_argument("--generate", help="properties,units,tenants to generate instead of a seed file")
    parser.add_argument("--token-ttl", type=float, default=300.0, help="seconds a token lives")
    args = parser.parse_args(argv)
    if args.seed:
        with open(args.seed) as f:
            data = json.load(f)
    elif args.generate:
        p, u, t = (int(n) for n in args.generate.split(","))
        data = seeds.generate(p, u, t)
    else:
        data = seeds.generate(2, 20, 30)
    server = FakeRentManager(data, host=args.host, port=args.port, token_ttl=args.token_ttl)
    print(f"fake Rent Manager on {server.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
