"""HTTP Digest authentication (RFC 7616, MD5, qop "auth" / "auth-int") as Akuvox's LAN API uses it.

Both ends need it: the portal's LAN client answers a device's challenge, and the simulated devices
challenge their callers. Plain functions, no Django, so the simulator can import them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

REALM = "HTTPAPI"  # what Akuvox devices announce
NONCE_TTL = 300.0

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def md5(text: str | bytes) -> str:
    return hashlib.md5(text if isinstance(text, bytes) else text.encode(), usedforsecurity=False).hexdigest()


def parse(header: str) -> tuple[str, dict[str, str]]:
    """`Digest realm="x", nonce="y"` → ("digest", {"realm": "x", "nonce": "y"})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for m in _PARAM.finditer(rest):
        quoted, bare = m.group(2), m.group(3)
        params[m.group(1).lower()] = quoted.replace('\\"', '"') if quoted is not None else bare
    return scheme.lower(), params


def _response(params: dict[str, str], method: str, username: str, password: str, body: bytes) -> str:
    ha1 = md5(f"{username}:{params.get('realm', '')}:{password}")
    qop = params.get("qop", "")
    a2 = f"{method}:{params['uri']}:{md5(body)}" if qop == "auth-int" else f"{method}:{params['uri']}"
    ha2 = md5(a2)
    if qop:
        return md5(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{qop}:{ha2}")
    return md5(f"{ha1}:{params['nonce']}:{ha2}")


def authorization(challenge: dict[str, str], *, method: str, uri: str, username: str, password: str) -> str:
    """The Authorization header answering a device's `WWW-Authenticate: Digest …` challenge."""
    offered = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    params = {"realm": challenge.get("realm", ""), "nonce": challenge.get("nonce", ""), "uri": uri}
    if offered:
        qop = "auth" if "auth" in offered else offered[0]
        params.update(qop=qop, nc="00000001", cnonce=secrets.token_hex(8))
    params["response"] = _response(params, method, username, password, b"")
    fields = {"username": username, **params}
    if challenge.get("opaque"):
        fields["opaque"] = challenge["opaque"]
    fields["algorithm"] = "MD5"
    unquoted = {"qop", "nc", "algorithm"}
    return "Digest " + ", ".join(f"{k}={v}" if k in unquoted else f'{k}="{v}"' for k, v in fields.items())


class Verifier:
    """The device side: issue challenges and check answers. Nonces are signed with a key of this
    process and expire, so nothing is stored per caller."""

    def __init__(self, username: str, password: str, realm: str = REALM) -> None:
        self.username, self.password, self.realm = username, password, realm
        self._key = secrets.token_bytes(16)
        self.opaque = secrets.token_hex(8)

    def _sign(self, stamp: str) -> str:
        return hmac.new(self._key, stamp.encode(), "sha256").hexdigest()[:32]

    def challenge(self) -> str:
        stamp = f"{time.time():.0f}"
        nonce = f"{stamp}-{self._sign(stamp)}"
        return (
            f'Digest realm="{self.realm}", qop="auth,auth-int", nonce="{nonce}", '
            f'opaque="{self.opaque}", algorithm=MD5'
        )

    def check(self, header: str, method: str, uri: str, body: bytes = b"") -> bool:
        """Whether `header` answers one of our challenges for this very request."""
        scheme, params = parse(header)
        if scheme != "digest" or params.get("username") != self.username or params.get("realm") != self.realm:
            return False
        stamp, _, signature = params.get("nonce", "").partition("-")
        if not stamp.isdigit() or not hmac.compare_digest(signature, self._sign(stamp)):
            return False
        if time.time() - int(stamp) > NONCE_TTL:
            return False
        if params.get("qop") and not all(params.get(k) for k in ("nc", "cnonce")):
            return False
        if params.get("uri") != uri or "response" not in params:
            return False
        expected = _response(params, method, self.username, self.password, body)
        return hmac.compare_digest(expected, params["response"].lower())
