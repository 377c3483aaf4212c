"""The synthetic body-worn footage (scripts/footage.py) that the review, teaching and batch
tests are built on holds no face: the teaching export's second face check must find nothing
in it, or every export test of it is refused for a face that is not there."""

from __future__ import annotations

from pathlib import Path

from pipeline.teach.face_check import check_clip
from scripts.footage import Line, Scenario, build_clip


def test_the_synthetic_footage_gives_the_face_check_nothing_to_find(tmp_path: Path) -> None:
    scenario = Scenario("faceless", (
        Line("wearer", "Hello, I'm PC Jones. I'm here because your neighbour was worried about you."),
        Line("public", "He grabbed me by the throat last night and said he would kill me."),
        Line("wearer", "Thank you for telling me. That sounds really frightening."),
    ))
    clip = build_clip(scenario, tmp_path / "faceless.mp4", seed=7, public_gain_db=-6.0)
    found = check_clip(Path(clip.path), every=1)  # every frame, not the export's every third
    assert found.describe()["frames_checked"] > 100
    assert found.passed, found.describe()["findings"][:5]
