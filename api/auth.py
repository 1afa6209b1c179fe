"""API keys and roles: who is calling, and what they may touch.

Roles:
- ``storefront``: a retailer's storefront acting for one signed-in shopper. It names
  that shopper in ``X-Customer-Id`` (or its key is bound to one customer) and may only
  create and use shopper sessions of that customer and read their decisions.
- ``support_agent``: the copilot; any customer's sessions, drafts and approvals.
- ``operator``: everything, including policy and the kill switch.

Keys are compared by sha256 in constant time and never logged or recorded: a
request is known by the key's *name* (``decided_by``, ``set_by``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from arbiter.errors import ConfigError
from arbiter.settings import Settings

Role = Literal["storefront", "support_agent", "operator"]
ROLES: tuple[Role, ...] = ("storefront", "support_agent", "operator")
KEYS_FILE_NAME = "api-keys.yaml"


class KeyEntry(BaseModel):
    """One configured key."""

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:@-]+$")
    role: Role
    key: str | None = Field(default=None, min_length=16, description="The secret itself.")
    key_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    customer_id: str | None = Field(
        default=None, description="storefront only: the one customer this key acts for."
    )

    @model_validator(mode="after")
    def _one_secret(self) -> KeyEntry:
        if (self.key is None) == (self.key_sha256 is None):
            raise ValueError("give exactly one of key or key_sha256")
        return self

    @property
    def digest(self) -> str:
        """sha256 of the secret (hex)."""
        return self.key_sha256 or _sha256(self.key or "")


class KeysFile(BaseModel):
    """``api-keys.yaml``."""

    keys: list[KeyEntry] = Field(min_length=1)


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request."""

    name: str
    role: Role
    customer_id: str | None = None
    """For a storefront: the shopper it acts for on this request."""

    @property
    def identity(self) -> str:
        """How records name this caller (never the key)."""
        return f"{self.role}:{self.name}"


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyRing:
    """The configured keys, looked up by the digest of a presented secret."""

    def __init__(self, entries: list[KeyEntry]) -> None:
        self._entries = list(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, secret: str) -> KeyEntry | None:
        """The entry whose secret this is, compared in constant time."""
        digest = _sha256(secret)
        found = None
        for entry in self._entries:
            if hmac.compare_digest(entry.digest, digest):
                found = entry
        return found


def load_keys(settings: Settings, *, create: bool = False) -> tuple[KeyRing, Path]:
    """Keys from the keys file and ``ARBITER_API_KEYS``.

    With no file configured the data directory's ``api-keys.yaml`` is used; ``create``
    writes one there (a random key per role, readable only by its owner) when it is
    missing and no keys come from the environment either.
    """
    path = settings.api_keys_file or settings.path(KEYS_FILE_NAME)
    from_env = settings.api_keys is not None
    if create and not from_env and settings.api_keys_file is None and not path.exists():
        write_default_keys(path)
    entries: list[KeyEntry] = []
    if path.exists():
        try:
            entries.extend(KeysFile.model_validate(yaml.safe_load(path.read_text())).keys)
        except (yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"invalid API keys file {path}: {exc}") from exc
    elif settings.api_keys_file is not None:
        raise ConfigError(f"API keys file {path} does not exist")
    if settings.api_keys is not None:
        entries.extend(_parse_env(settings.api_keys.get_secret_value()))
    return KeyRing(entries), path


def _parse_env(value: str) -> list[KeyEntry]:
    entries = []
    for n, item in enumerate(filter(None, (p.strip() for p in value.split(","))), start=1):
        parts = item.split(":", 2)
        if len(parts) != 3:
            raise ConfigError(f"ARBITER_API_KEYS entry {n}: expected name:role:secret")
        name, role, secret = parts
        try:
            entries.append(KeyEntry.model_validate({"name": name, "role": role, "key": secret}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"ARBITER_API_KEYS entry {n} ({name}): {problems}") from None
    return entries


def write_default_keys(path: Path) -> None:
    """A keys file with one fresh key per role (mode 0600)."""
    document = {
        "keys": [
            {"name": f"local-{role.replace('_', '-')}", "role": role, "key": _new_key(role)}
            for role in ROLES
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(
            "# API keys for `arbiter serve`, one per role. Keep this file private.\n"
            "# Send a key as 'Authorization: Bearer <key>' (or 'X-API-Key: <key>').\n"
        )
        yaml.safe_dump(document, handle, sort_keys=False)


def _new_key(role: Role) -> str:
    prefix = {"storefront": "sf", "support_agent": "sa", "operator": "op"}[role]
    return f"arb_{prefix}_{secrets.token_urlsafe(24)}"
