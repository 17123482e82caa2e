"""Secrets at rest: sealed with the configured or generated key, never readable without it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from calsync.runtime.errors import EncryptionKeyError
from calsync.runtime.secrets import KEY_FILE_NAME, SecretBox

SECRET = "Zq8~client.secret-from-entra"


def test_a_sealed_secret_opens_with_the_same_key_and_does_not_contain_the_secret() -> None:
    key = Fernet.generate_key().decode()
    sealed = SecretBox.from_environment({"CALSYNC_ENCRYPTION_KEY": key}).seal(SECRET)
    assert SECRET.encode() not in sealed
    assert SecretBox.from_environment({"CALSYNC_ENCRYPTION_KEY": key}).open(sealed) == SECRET


def test_without_a_configured_key_one_is_generated_once_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    environ = {"CALSYNC_DATA_DIR": str(tmp_path)}
    box = SecretBox.from_environment(environ)
    key_file = tmp_path / KEY_FILE_NAME
    assert not key_file.exists()  # a server that never stores a secret makes no key
    sealed = box.seal(SECRET)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first_key = key_file.read_bytes()
    assert SecretBox.from_environment(environ).open(sealed) == SECRET
    assert key_file.read_bytes() == first_key


def test_another_key_cannot_open_the_secret_and_says_what_to_do() -> None:
    sealed = SecretBox([Fernet.generate_key()]).seal(SECRET)
    with pytest.raises(EncryptionKeyError, match="enable the sync again") as refused:
        SecretBox([Fernet.generate_key()]).open(sealed)
    assert refused.value.field == "CALSYNC_ENCRYPTION_KEY"


def test_a_malformed_key_is_refused_by_name() -> None:
    with pytest.raises(EncryptionKeyError, match="Fernet keys") as refused:
        SecretBox.from_environment({"CALSYNC_ENCRYPTION_KEY": "not-a-key"})
    assert refused.value.field == "CALSYNC_ENCRYPTION_KEY"
    assert refused.value.code == "encryption_key_invalid"


def test_a_rotated_key_list_still_opens_secrets_sealed_with_the_old_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = SecretBox.from_environment({"CALSYNC_ENCRYPTION_KEY": old}).seal(SECRET)
    rotated = SecretBox.from_environment({"CALSYNC_ENCRYPTION_KEY": f"{new}, {old}"})
    assert rotated.open(sealed) == SECRET
    resealed = rotated.seal(SECRET)
    assert SecretBox.from_environment({"CALSYNC_ENCRYPTION_KEY": new}).open(resealed) == SECRET
