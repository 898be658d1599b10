"""The data folder's lock: shared holds live together, an exclusive one excludes them."""

from __future__ import annotations

import pytest

from salvesti.core.datalock import DataDirBusy, hold_for_restore, hold_for_run


def test_runs_share_the_folder_and_a_restore_waits_for_them(tmp_path):
    first, second = hold_for_run(tmp_path), hold_for_run(tmp_path)
    with pytest.raises(DataDirBusy, match="in use: salvesti run is using it"):
        hold_for_restore(tmp_path)
    first.release()
    second.release()
    with hold_for_restore(tmp_path), pytest.raises(DataDirBusy, match="a restore is running"):
        hold_for_run(tmp_path)
    hold_for_run(tmp_path).release()  # released with the restore's hold
