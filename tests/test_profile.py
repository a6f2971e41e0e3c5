"""The profile is checked whole when it is read: one line names the file, the table and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.profile import ProfileError, load_profile, require_seed
from flows.stages.context import check_profile
from tests.support.paths import REPO

SHIPPED = REPO / "seeds" / "monitor.toml"


def _child(tmp_path: Path, text: str, name: str = "child.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'extends = "{SHIPPED}"\n{text}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[topics]\ndorp = []", "[topics] has an unknown key 'dorp'"),
        ("[topics.aliases]\ngsomia = 3", "[topics.aliases] gsomia: Input should be a valid"),
        ("[[topics.add]]\nphrase = 'x'\nwieght = 1", "[[topics.add]] #1 has an unknown key"),
        ("[fetch]\nmax_byte = 1", "[fetch] has an unknown key 'max_byte'"),
        ("[fetch]\nmax_candidates_per_source = 0", "[fetch] max_candidates_per_source:"),
        ("[monitor]\nnmae = 'x'", "[monitor] has an unknown key 'nmae'"),
        ("[parties.japan]\nalias = []", "[parties.japan] has an unknown key 'alias'"),
        ("[relevence]\nthreshold = 1", "the profile has an unknown key 'relevence'"),
        ("[[sources]]\nname = 'a'\nkind = 'feed'\nurll = ''", "[[sources]] #1 has an unknown"),
    ],
)
def test_a_mistake_is_one_line_naming_the_file(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ProfileError) as raised:
        load_profile(_child(tmp_path, table))
    text = str(raised.value)
    assert "\n" not in text
    assert text.startswith(str(tmp_path / "child.toml")) or text.startswith("child.toml")
    assert message in text


def test_a_key_from_the_extended_file_names_that_file(tmp_path: Path) -> None:
    parent = _child(tmp_path, "[fetch]\nmax_byte = 1", name="parent.toml")
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{parent.name}"\n[fetch]\nmax_bytes = 10\n', encoding="utf-8")
    with pytest.raises(ProfileError, match=r"parent\.toml: \[fetch\] has an unknown key"):
        load_profile(child)


def test_a_toml_error_names_line_and_column(tmp_path: Path) -> None:
    path = _child(tmp_path, "[fetch]\nmax_bytes = = 1")
    with pytest.raises(ProfileError, match=r"child\.toml:3:13: not valid TOML"):
        load_profile(path)


def test_a_missing_seed_is_named(tmp_path: Path) -> None:
    profile = load_profile(_child(tmp_path, "[seed]\nfile = 'gone.txt'"))
    with pytest.raises(ProfileError, match="gone.txt"):
        require_seed(profile)
    with pytest.raises(ProfileError, match="gone.txt"):
        check_profile(profile.path)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("[relevance]\ntreshold = 0.4", "treshold"),
        ("[stages]\nmin_scor = 1", "min_scor"),
        ("[escalation]\ncorroborations = 3", "corroborations"),
        ("[health]\nfailing = 3", "failing"),
        ("[health]\nfailing_runs = 0", "failing_runs"),
        ("[health]\nsilence_factor = '2'", "silence_factor"),
        ("[escalation]\nlive_horizon_hours = true", "live_horizon_hours"),
        ("[relevance]\nthreshold = 'high'", "high"),
    ],
)
def test_tables_owned_by_the_scoring_modules_are_checked_at_start(
    tmp_path: Path, table: str, key: str
) -> None:
    path = _child(tmp_path, table)
    load_profile(path)  # their owners parse them: reading alone does not look inside
    with pytest.raises(ProfileError) as raised:
        check_profile(path)
    assert key in str(raised.value) and "child.toml" in str(raised.value)


def test_the_shipped_profile_checks_out() -> None:
    assert check_profile(SHIPPED).fetch.max_candidates_per_source == 200
