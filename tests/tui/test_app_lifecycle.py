"""The app's life in its process: the long-lived heap is taken out of the collector's full
passes when `pob` runs the app (see PobApp.settle_heap) and left alone in a process that runs
many apps (the tests); an answer that lands while the app closes changes nothing."""

from __future__ import annotations

import gc

from tests.tui.conftest import settle


async def test_pob_freezes_what_lives_as_long_as_the_app_and_a_host_process_does_not(
        shell_url, make_app) -> None:
    gc.unfreeze()
    try:
        app = make_app(shell_url)  # as tests and other hosts make it: nothing frozen
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("8")  # a new area's screen
            await settle(pilot)
            assert gc.get_freeze_count() == 0
        app = make_app(shell_url, freeze_heap=True)  # as `pob` makes it (cli.cmd_tui)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            after_session = gc.get_freeze_count()
            assert after_session > 0 and app.screen.query("PagedTable")
            await pilot.press("8")
            await settle(pilot)
            assert gc.get_freeze_count() > after_session  # the Org area's screen too
            assert "Units" in str(app.screen.query_one("#org-views").render())
    finally:
        gc.unfreeze()  # the rest of this process collects as usual


async def test_a_session_answer_after_the_screens_are_gone_is_dropped(shell_url,
                                                                     make_app) -> None:
    """The session worker's answer can land while the app closes (seen under load in the
    suite): with no screen left it changes nothing instead of raising."""
    from pob_tui.services.agents import AgentInfo
    from pob_tui.tui.messages import SessionLoaded

    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        label = app.agent_label
    assert not app.screen_stack  # closed
    app.on_session_loaded(SessionLoaded(AgentInfo(username="late"), empty=True))
    assert app.agent_label == label
