"""Secrets at rest: the tenant's client secret and certificate key are sealed with Fernet.

The key comes from `CALSYNC_ENCRYPTION_KEY` (a Fernet key; several comma-separated keys rotate:
the first seals, all of them open). Without it, a key is generated once into the data directory
(`CALSYNC_DATA_DIR`, else the working directory) as `calsync-encryption.key`, readable by its owner
only (0600), so a fresh installation is protected without a set-up step. Losing the key means
enabling the sync again with the tenant's secret; the database alone never reveals it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from calsync.crm.database import DATA_DIR_VARIABLE
from calsync.runtime.errors import EncryptionKeyError

ENCRYPTION_KEY_VARIABLE = "CALSYNC_ENCRYPTION_KEY"
KEY_FILE_NAME = "calsync-encryption.key"


class SecretBox:
    """Seals and opens the secrets CalSync stores for the organisation.

    Built from keys, or from a loader that is called on first use: a server that never stores a
    secret never creates a key file.
    """

    def __init__(
        self,
        keys: list[bytes] | None = None,
        *,
        key_loader: Callable[[], list[bytes]] | None = None,
    ) -> None:
        self._cipher: MultiFernet | None = None
        self._keys: list[bytes] = []
        self._key_loader = key_loader
        if keys is not None or key_loader is None:
            self._cipher, self._keys = _cipher_of(keys or []), list(keys or [])

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SecretBox:
        """The configured key (checked now), or the data directory's key file (read, or created,
        when a secret is first sealed or opened)."""
        env = os.environ if environ is None else environ
        configured = env.get(ENCRYPTION_KEY_VARIABLE, "").strip()
        if configured:
            return cls([part.strip().encode() for part in configured.split(",") if part.strip()])
        data_dir = Path(env.get(DATA_DIR_VARIABLE, "").strip() or Path.cwd())
        return cls(key_loader=lambda: [key_from_file(data_dir / KEY_FILE_NAME)])

    @property
    def _fernet(self) -> MultiFernet:
        if self._cipher is None:
            self._keys = self._key_loader() if self._key_loader else []
            self._cipher = _cipher_of(self._keys)
        return self._cipher

    def derive(self, purpose: str) -> str:
        """A secret for `purpose` derived from the key (HMAC-SHA256), the same in every process:
        e.g. the webhooks' clientState, which therefore never needs storing."""
        self._fernet  # noqa: B018 (loads the keys on first use)
        return hmac.new(self._keys[0], purpose.encode(), hashlib.sha256).hexdigest()

    def seal(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode())

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken as error:
            raise EncryptionKeyError(
                "the stored Microsoft 365 credentials cannot be decrypted with this key: restore "
                "the key they were saved with, or enable the sync again with the tenant's secret",
                field=ENCRYPTION_KEY_VARIABLE,
            ) from error


def _cipher_of(keys: list[bytes]) -> MultiFernet:
    if not keys:
        raise EncryptionKeyError("no encryption key given", field=ENCRYPTION_KEY_VARIABLE)
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise EncryptionKeyError(
            "must be Fernet keys (32 bytes, url-safe base64), comma-separated; make one with "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`",
            field=ENCRYPTION_KEY_VARIABLE,
        ) from error


def key_from_file(path: Path) -> bytes:
    """Read the key at `path`, creating it (owner-only) the first time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(descriptor, "wb") as key_file:
                key_file.write(Fernet.generate_key())
    return path.read_bytes().strip()
