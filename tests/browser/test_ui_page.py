"""A real browser renders `hpo ui`: headless Chromium loads the experiment's runs page (a React app that
fetches the runs from the server's API), and the sweep's parent run is on the rendered page."""
import os
import shutil
import subprocess
import sys

import pytest

from tests.integration.test_serving import free_port, start_ui, stop_ui

pytestmark = pytest.mark.browser

HPO = os.path.join(os.path.dirname(sys.executable), "hpo")
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
SWEEP = "browser-sweep-7f3a"   # a name nothing else on the page could contain


def rendered_dom(url: str, profile: str) -> str:
    """The page's DOM after its scripts ran (virtual time lets the app's requests finish)."""
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={profile}", "--virtual-time-budget=30000", "--dump-dom", url],
        capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium); "
                                             ".ci/run installs it")
def test_the_runs_page_shows_the_sweep(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    sweep = subprocess.run([HPO, "run", "multiclass", "--trials", "2", "--max-epochs", "2", "--name", SWEEP],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert sweep.returncode == 0, sweep.stderr
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    port = free_port()
    process = start_ui(uri, port)
    try:
        url = f"http://127.0.0.1:{port}/#/experiments/1/runs"
        dom = rendered_dom(url, str(tmp_path / "profile"))
        if SWEEP not in dom:  # a slow first load: the app's data may come after the first budget
            dom = rendered_dom(url, str(tmp_path / "profile"))
    finally:
        out = stop_ui(process)
    assert url in out
    assert f">{SWEEP}<" in dom, dom[-3000:]
