"""Sealing signing secrets: AES-GCM, bound to the row, rotation by a list of keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from services.notifier.secret_box import SecretBox, SecretKeyError, generate_key, parse_key
from services.notifier.settings import NotifierSettings
from shared import SettingsError, load_settings


def test_sealed_value_opens_for_its_row_only() -> None:
    box = SecretBox.from_settings([generate_key()])
    sealed = box.seal('[{"value": "whsec_abc"}]', subscription_id="sub_1")
    assert "whsec_abc" not in sealed
    assert sealed.startswith(f"aesgcm:{box.sealing_key_id}:")
    assert box.open(sealed, subscription_id="sub_1") == '[{"value": "whsec_abc"}]'
    with pytest.raises(SecretKeyError, match="copied from another row"):
        box.open(sealed, subscription_id="sub_2")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(SecretKeyError, match="tampered"):
        box.open(flipped, subscription_id="sub_1")


def test_rotation_first_key_seals_every_key_opens() -> None:
    old, new = generate_key(), generate_key()
    before = SecretBox.from_settings([old])
    during = SecretBox.from_settings([new, old])
    after = SecretBox.from_settings([new])
    sealed_old = before.seal("s", subscription_id="sub_1")
    assert during.open(sealed_old, subscription_id="sub_1") == "s"
    assert during.needs_resealing(sealed_old)
    sealed_new = during.seal("s", subscription_id="sub_1")
    assert not during.needs_resealing(sealed_new)
    assert after.open(sealed_new, subscription_id="sub_1") == "s"
    with pytest.raises(SecretKeyError, match=f"key {before.sealing_key_id}, which is not"):
        after.open(sealed_old, subscription_id="sub_1")


def test_key_file_is_created_0600_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "notifier-secret.key"
    first, created = SecretBox.from_key_file(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = SecretBox.from_key_file(path)
    assert not created_again
    assert again.open(first.seal("x", subscription_id="s"), subscription_id="s") == "x"


def test_keys_are_validated_and_required_when_asked() -> None:
    assert len(parse_key(generate_key())) == 32
    with pytest.raises(SettingsError, match=r"NOTIFIER_SECRET_KEYS: .*key 2: a secret key is"):
        load_settings(NotifierSettings, env={"NOTIFIER_SECRET_KEYS": f"{generate_key()},abc"})
    with pytest.raises(SettingsError, match="NOTIFIER_SECRET_KEYS is required"):
        load_settings(NotifierSettings, env={"NOTIFIER_ALLOW_KEY_FILE": "false"})
    keys = f"{generate_key()}, {generate_key()}"
    settings = load_settings(
        NotifierSettings, env={"NOTIFIER_SECRET_KEYS": keys, "NOTIFIER_ALLOW_KEY_FILE": "0"}
    )
    assert len(settings.secret_keys) == 2
    assert settings.secret_keys[0] not in repr(settings)
