"""LayoutCase: a test case class whose tests share one daemon on one layout (`layout` =
"sqlite" or "mixed"), started in setUpClass and stopped (gracefully: exit status 0) in
tearDownClass. Tests of a class share the daemon's rows, so each makes its own (daemon.unique)."""

from __future__ import annotations

import unittest
from typing import ClassVar, Optional

from daemon import Daemon, Layout


class LayoutCase(unittest.TestCase):
    layout: ClassVar[str] = "sqlite"
    server: ClassVar[str] = ""
    extra: ClassVar[str] = ""
    running: ClassVar[Optional[Layout]] = None

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.running = Layout(cls.layout, cls.server, cls.extra)

    @classmethod
    def tearDownClass(cls) -> None:
        running, cls.running = cls.running, None
        if running is not None:
            log = running.daemon.log()
            status = running.stop()
            if status != 0:
                raise AssertionError("shardd exited with %s after %s; its log:\n%s" % (status, cls.__name__, log[-4000:]))
        super().tearDownClass()

    @property
    def daemon(self) -> Daemon:
        assert self.running is not None
        return self.running.daemon
