"""The supervisor's log relay, with a real child process."""

from __future__ import annotations

import io
import sys

from tournees.supervisor import MAX_LOG_LINE, Supervisor


async def test_a_huge_log_line_does_not_stop_the_relay(tmp_path):
    out = io.StringIO()
    supervisor = Supervisor(data_dir=tmp_path, out=out)
    script = "import sys; print('x' * 200_000); print('still talking'); sys.stdout.flush()"
    await supervisor._spawn("registry", [sys.executable, "-c", script], {})
    child = supervisor.children[0]
    await child.process.wait()
    assert child.log_task is not None
    await child.log_task

    lines = out.getvalue().splitlines()
    assert lines[-1] == "registry      | still talking"
    assert all(len(line) <= MAX_LOG_LINE + 20 for line in lines)
