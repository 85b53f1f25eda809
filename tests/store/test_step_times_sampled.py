"""Reader.step_times_sampled: evenly spread (step, time) pairs of a run, real logged steps only."""

from __future__ import annotations

from pathlib import Path

import tracktui
from tracktui.store import Reader


def test_step_times_sampled_spreads_over_logged_steps(tmp_path: Path) -> None:
    run = tracktui.init(dir=tmp_path, project="p", id="r", settings={"capture": False})
    for s in range(0, 3000, 3):  # sparse steps: 0, 3, 6, ...
        run.log({"loss": 1.0}, step=s)
    run.finish()
    with Reader(tmp_path) as r:
        steps, times = r.step_times_sampled("r", points=50)
        every = r.step_times("r")
        assert steps[0] == 0 and steps[-1] == 2997
        assert 40 <= len(steps) <= 50 and steps == sorted(set(steps))
        assert all(s % 3 == 0 and times[i] == every[s] for i, s in enumerate(steps))
        assert r.step_times_sampled("nope") == ([], [])
