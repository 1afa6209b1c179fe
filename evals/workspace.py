"""Where trials run: a scratch directory, the seeded sandbox, and sandbox apps reused per slot.

Each trial still gets a fresh sandbox database and fresh stores (its own data
directory); what is shared is only what holds no trial state:

- the scratch directory is on tmpfs (``/dev/shm``) when the machine has one: a trial
  opens six SQLite files in WAL mode, and on a disk the fsync of every commit and
  checkpoint cost more than the whole trial's CPU (57 shopping scenarios: 19-27 s on
  the disk, 8 s on tmpfs, one at a time);
- the sandbox is seeded once per run and its clock applied once (``template``); each
  trial copies that file (0.7 MB) into its own directory;
- the sandbox app is built once per slot (trials running at once), not per trial:
  FastAPI analyses a route's dependencies the first time an app routes to it, about
  0.1 s of CPU per new app. A slot's app is pointed at the trial's database and its
  fault registry emptied and re-seeded before the trial (``SandboxSlots.bind``): the
  app keeps no other state (``app.state`` holds the database path, the clock setting
  and the faults; every request opens its own connection).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

TMPFS = Path("/dev/shm")
"""Preferred scratch location when it exists, is writable and has room (Linux)."""

TMPFS_ROOM = 256 * 2**20
"""Free bytes tmpfs must have: a trial's directory takes about 2 MB while it runs."""


def scratch_root(work_dir: Path | None) -> Path | None:
    """``work_dir`` when given, else tmpfs when usable, else None (the system temp dir)."""
    if work_dir is not None:
        return work_dir
    try:
        with tempfile.TemporaryDirectory(dir=TMPFS):
            pass
        return TMPFS if shutil.disk_usage(TMPFS).free >= TMPFS_ROOM else None
    except OSError:
        return None


@dataclass(frozen=True)
class Workspace:
    """One run's scratch directory and the sandbox every trial starts from."""

    root: Path
    template: Path
    """The seeded sandbox database with the run's clock applied; trials copy it."""

    def trial_dir(self, name: str) -> Path:
        """A new data directory holding a fresh copy of the sandbox database."""
        data_dir = self.root / name
        data_dir.mkdir(parents=True)
        shutil.copyfile(self.template, data_dir / "sandbox.sqlite")
        return data_dir


@contextmanager
def workspace(seeded: Path | None, work_dir: Path | None, clock: str) -> Iterator[Workspace]:
    """A scratch directory (removed on exit) with the template sandbox in it.

    ``seeded`` is a sandbox database already seeded at ``clock`` (else one is seeded).
    """
    from sandbox.app import create_app
    from sandbox.clock import parse_iso
    from sandbox.seed import seed_database

    with tempfile.TemporaryDirectory(prefix="arbiter-eval-", dir=scratch_root(work_dir)) as tmp:
        root = Path(tmp)
        template = root / "template" / "sandbox.sqlite"
        if seeded is None:
            seed_database(template, now=parse_iso(clock))
        else:
            template.parent.mkdir()
            shutil.copyfile(seeded, template)
        create_app(template, clock=clock)  # writes the clock setting into the template
        yield Workspace(root=root, template=template)


class SandboxSlots:
    """Sandbox apps, one per trial running at once, each reused trial after trial."""

    def __init__(self, clock: str) -> None:
        self.clock = clock
        self._free: list[FastAPI] = []
        self.built = 0
        """Apps built so far (the most trials that ran at once)."""

    @asynccontextmanager
    async def app_for(self, db_path: Path) -> AsyncIterator[FastAPI]:
        """A sandbox app serving ``db_path`` with no faults, for one trial."""
        if self._free:
            app = self._free.pop()
            self.bind(app, db_path)
        else:
            from sandbox.app import create_app

            app = create_app(db_path, clock=self.clock)
            self.built += 1
        try:
            yield app
        finally:
            self._free.append(app)

    @staticmethod
    def bind(app: FastAPI, db_path: Path) -> None:
        """Point ``app`` at a fresh trial database, its faults as a new app's."""
        from sandbox.faults import FaultRegistry

        app.state.db_path = db_path
        faults: FaultRegistry = app.state.faults  # the fault middleware holds this object
        faults.reset()  # a trial's fault draws never depend on earlier trials
