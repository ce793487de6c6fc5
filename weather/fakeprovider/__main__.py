"""python -m weather.fakeprovider: serve the fake weather provider until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from .server import FakeWeather


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m weather.fakeprovider",
        description="A fake Open-Meteo: /v1/search (geocoding) and /v1/forecast (docs/weather.md).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="default %(default)s")
    parser.add_argument("--port", type=int, default=12112, help="default %(default)s; 0 picks a free one")
    parser.add_argument("--api-key", default="", help="require this apikey parameter (default: none)")
    parser.add_argument("--fail", action="store_true", help="answer every call with HTTP 500")
    parser.add_argument("--slow", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    fake = FakeWeather(host=args.host, port=args.port, api_key=args.api_key)
    fake.fail, fake.slow = args.fail, args.slow
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        fake.start()
    except OSError as exc:
        print(f"weather.fakeprovider: {exc}", file=sys.stderr)
        return 2
    print(f"Fake weather provider listening on {fake.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
