"""run.alert() in the app: the Overview lists a run's alerts (newest last, level coloured, strings as text),
new ones appear while the screen polls, and the Logs tab marks alert lines."""

from __future__ import annotations

from pathlib import Path

import tracktui
from tracktui.store.codec import ALERT_STREAM, alert_line
from tracktui.tui.app import make_app
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.log_tail import log_line
from tracktui.tui.widgets.overview import OverviewPanel, alerts_text

from .conftest import HOSTILE, wait_for


def _alert_store(root: Path) -> tuple[str, str]:
    with tracktui.init(dir=root, project="p", id="quiet", settings={"capture": False}) as quiet:
        quiet.log({"x": 1.0})
    run = tracktui.init(dir=root, project="p", id="loud", settings={"capture": False})
    run.log({"x": 1.0})
    run.alert("Low accuracy", "val/acc 0.31 < 0.5", level=tracktui.AlertLevel.WARN)
    run.alert(HOSTILE[1], HOSTILE[0] + " diverged", level="ERROR")
    run.finish()
    return quiet.id, run.id


def _overview_text(screen: RunScreen) -> str:
    panel = screen.query_one(OverviewPanel)
    return str(panel.query_one("#ov-alerts").render()) if panel.has_class("has-alerts") else ""


async def test_overview_shows_alerts_and_new_ones_while_polling(tmp_path: Path) -> None:
    root = tmp_path / "store"
    quiet_id, loud_id = _alert_store(root)
    app = make_app(store_dir=root, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(RunScreen(app.live, loud_id))
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.record is not None)
        screen = app.screen
        await pilot.press("4")
        await wait_for(pilot, lambda: any(o.is_mounted and o.run for o in screen.query(OverviewPanel)))
        await wait_for(pilot, lambda: "diverged" in _overview_text(screen))
        text = _overview_text(screen)
        assert "WARN" in text and "Low accuracy" in text and "val/acc 0.31 < 0.5" in text
        assert "ERROR" in text and "[@click=app.quit]" in text  # markup shown as text
        assert text.index("Low accuracy") < text.index("diverged")
        run = tracktui.init(dir=root, id=loud_id, resume="allow", settings={"capture": False})
        run.alert("Recovered", "back above 0.5")
        run.finish()
        await wait_for(pilot, lambda: "Recovered" in _overview_text(screen), timeout=10)
        assert _overview_text(screen).count("Low accuracy") == 1  # polled lines are not repeated
        app.pop_screen()
        app.push_screen(RunScreen(app.live, quiet_id))
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.record is not None)
        await pilot.press("4")
        await wait_for(pilot, lambda: any(o.is_mounted and o.run for o in app.screen.query(OverviewPanel)))
        assert not app.screen.query_one(OverviewPanel).has_class("has-alerts")  # no section without alerts


def test_alert_lines_in_the_logs_and_the_overview_text() -> None:
    line = log_line(0.0, ALERT_STREAM, alert_line("WARN", "Low", "acc \x1b]0;TITLE\x07 dropped"), fixed_tz=True)
    assert line.plain.startswith("00:00:00 !│ WARN Low: acc") and "\x1b" not in line.plain
    many = [(i + 1, float(i), alert_line("INFO", f"t{i}", "x")) for i in range(25)]
    text = alerts_text(many).plain
    assert "(5 older not shown)" in text and "t24" in text and "t4 " not in text
    assert "not json" in alerts_text([(1, 0.0, "not json")]).plain  # a line that is not an alert is its text
