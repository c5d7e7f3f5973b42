"""Kafka's storage keeps the mode it was formatted in: asking a plaintext-formatted store for
SASL (where no admin credential exists) fails at once with what to do, instead of a broker no
one can log in to."""

from __future__ import annotations

from pathlib import Path

import pytest

from simptu.devstack.services.kafka import Kafka


def test_a_new_store_remembers_its_mode_and_a_store_of_the_other_mode_is_refused(
    tmp_path: Path,
) -> None:
    Kafka()._check_format(tmp_path, sasl=True)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "meta.properties").write_text("formatted\n")
    Kafka()._check_format(tmp_path, sasl=True)
    with pytest.raises(RuntimeError, match="formatted for sasl"):
        Kafka()._check_format(tmp_path, sasl=False)


def test_a_store_formatted_before_the_mode_was_kept_is_plaintext(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "meta.properties").write_text("formatted\n")
    Kafka()._check_format(tmp_path, sasl=False)
    with pytest.raises(RuntimeError, match="remove"):
        Kafka()._check_format(tmp_path, sasl=True)
