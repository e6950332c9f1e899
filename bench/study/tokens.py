"""Secrets of a preference study: rater tokens, the admin token, and the key of the opaque ids.

Tokens come from :func:`secrets.token_urlsafe` (never from the study seed: a plan is reproducible, its
links must not be). The browser only ever sees :func:`opaque_id` values, an HMAC-SHA256 of the study
key and (rater, item, role), so neither a model name nor the plan order can be read from a URL, and the
same video gets a different URL in every pair it appears in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from bench.errors import StudyError

TOKEN_BYTES = 24  # 32 url-safe characters
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


@dataclass(frozen=True)
class StudySecrets:
    """The admin token, one token per rater, and the HMAC key (hex) of the opaque ids."""

    key: str
    admin: str
    raters: dict[str, str]  # rater name -> token

    def to_json(self) -> dict:
        return {"key": self.key, "admin": self.admin, "raters": self.raters}


def new_secrets(raters: list[str]) -> StudySecrets:
    """Fresh random tokens for ``raters`` and a fresh 256-bit key."""
    return StudySecrets(
        key=secrets.token_hex(32),
        admin=secrets.token_urlsafe(TOKEN_BYTES),
        raters={r: secrets.token_urlsafe(TOKEN_BYTES) for r in raters},
    )


def write_secrets(study_secrets: StudySecrets, study_dir: str | Path) -> Path:
    """Write ``secrets.json`` readable by its owner only (mode 0600); returns its path."""
    path = Path(study_dir) / "secrets.json"
    tmp = path.with_suffix(".json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(study_secrets.to_json(), fh, indent=1)
        fh.write("\n")
    tmp.replace(path)
    return path


def read_secrets(study_dir: str | Path) -> StudySecrets:
    """Read ``secrets.json``; :class:`StudyError` if it is absent or malformed."""
    path = Path(study_dir) / "secrets.json"
    try:
        data = json.loads(path.read_text())
        return StudySecrets(key=str(data["key"]), admin=str(data["admin"]), raters=dict(data["raters"]))
    except FileNotFoundError:
        raise StudyError(f"{str(path)!r} does not exist; create the study with `motive-bench study create`") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StudyError(f"{str(path)!r} is not a study secrets file ({exc!r}); recreate the study") from None


def opaque_id(key: str, *parts: object) -> str:
    """A 22-character url-safe HMAC-SHA256 id of ``parts`` under ``key`` (132 bits)."""
    msg = "\x1f".join(str(p) for p in parts).encode("utf-8")
    digest = hmac.new(bytes.fromhex(key), msg, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:22]


def well_formed(token: str) -> bool:
    """Whether ``token`` has the shape of a token (checked before any lookup)."""
    return bool(TOKEN_SHAPE.match(token))
