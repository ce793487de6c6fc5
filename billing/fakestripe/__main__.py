"""python -m billing.fakestripe: serve the fake Stripe until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from .server import FakeStripe, FakeStripeError
from .store import API_VERSION, MAX_EXPIRY


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m billing.fakestripe",
        description="A fake Stripe: Checkout Sessions, events, a hosted pay page and signed webhooks "
        "(docs/fake-stripe.md).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="default %(default)s")
    parser.add_argument("--port", type=int, default=12111, help="default %(default)s; 0 picks a free one")
    parser.add_argument("--api-key", default="sk_test_fakestripe", help="the secret key clients must send")
    parser.add_argument(
        "--webhook-url", action="append", default=[], help="where events are POSTed (repeat for several)"
    )
    parser.add_argument("--webhook-secret", default="whsec_fakestripe", help="signs the Stripe-Signature")
    parser.add_argument("--public-url", help="base URL of the hosted page in session.url (default: own URL)")
    parser.add_argument("--session-timeout", type=float, default=MAX_EXPIRY, help="default expiry, seconds")
    parser.add_argument(
        "--api-version", default=API_VERSION, help="events' api_version (default %(default)s)"
    )
    parser.add_argument("--duplicate", type=int, default=1, help="deliver each event N times")
    parser.add_argument("--concurrent", action="store_true", help="send the duplicates at the same moment")
    parser.add_argument("--reorder", action="store_true", help="deliver each batch of events newest first")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each delivery")
    drop = parser.add_mutually_exclusive_group()
    drop.add_argument("--drop", type=int, default=0, help="never deliver the next N deliveries")
    drop.add_argument("--drop-percent", type=float, default=0.0, help="never deliver P%% of deliveries")
    parser.add_argument("--retries", type=int, default=3, help="retries of a failed delivery")
    parser.add_argument("--retry-backoff", type=float, default=0.5, help="first retry's wait, doubling")
    parser.add_argument("--async-delay", type=float, default=2.0, help="'Pay later' succeeds after this")
    parser.add_argument("--seed", type=int, help="makes --drop-percent repeatable")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if args.duplicate < 1 or args.drop < 0 or not 0 <= args.drop_percent <= 100 or args.delay < 0:
        parser.error("--duplicate >= 1, --drop >= 0, 0 <= --drop-percent <= 100, --delay >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    fake = FakeStripe(
        api_key=args.api_key,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        session_timeout=args.session_timeout,
        api_version=args.api_version,
        retries=args.retries,
        retry_backoff=args.retry_backoff,
        async_delay=args.async_delay,
        seed=args.seed,
        duplicate=args.duplicate,
        concurrent=args.concurrent,
        reorder=args.reorder,
        delay=args.delay,
        drop=args.drop,
        drop_percent=args.drop_percent,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        fake.start()
    except FakeStripeError as exc:
        print(f"billing.fakestripe: {exc}", file=sys.stderr)
        return 2
    hooks = ", ".join(args.webhook_url) or "nowhere"
    print(f"Fake Stripe listening on {fake.url} (webhooks to {hooks})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
