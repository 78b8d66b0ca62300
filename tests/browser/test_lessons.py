"""Every lesson runs top to bottom in JupyterLab without an error on the page."""

from pathlib import Path

import pytest
from course import LESSONS, screenshot_path
from labpage import screenshot_element


@pytest.mark.parametrize("name", LESSONS, ids=[Path(n).stem for n in LESSONS])
def test_lesson_runs_in_browser_without_errors(open_lesson, name):
    lesson = open_lesson(name)
    assert lesson.kernel_status == "idle"
    problems = lesson.problems()
    assert not problems, f"{name} in the browser:\n" + "\n".join(problems)
    widgets = lesson.page.locator(".jp-OutputArea-output:has(> .jupyter-widgets)"
                                  ":not(.jupyter-widgets .jp-OutputArea-output)")  # top level
    assert widgets.count() == lesson.widget_output_count()
    for i in range(widgets.count()):
        screenshot_element(widgets.nth(i), screenshot_path(f"{Path(name).stem}-widget-{i}"))
