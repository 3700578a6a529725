"""clients/python/examples/weather.py, SQLAlchemy's weather scenario, run as a program
against a fresh daemon of each layout, then again on the rows it left."""

from __future__ import annotations

import os
import subprocess
import sys
import unittest

from daemon import PACKAGE_ROOT
from layout_case import LayoutCase

EXAMPLE = PACKAGE_ROOT / "examples" / "weather.py"


class ExampleTests(LayoutCase):
    def run_example(self) -> str:
        done = subprocess.run([sys.executable, str(EXAMPLE), self.daemon.socket], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)})
        self.assertEqual(done.returncode, 0, "the example failed:\n" + done.stdout + done.stderr)
        return done.stdout

    def test_the_example_and_its_rerun(self) -> None:
        first = self.run_example()
        self.assertIn('Tokyo     (Asia)           added key ["WeatherLocation", [1], "asia"]', first)
        self.assertIn("IdentityKey(model='Report', pk=(1,), token='north_america')", first)
        self.assertIn("IdentityKey(model='Report', pk=(1,), token='asia')", first)
        self.assertIn("both have id 1", first)
        self.assertIn("asked shards ['asia', 'europe']", first)
        self.assertIn("done: every assertion of SQLAlchemy's example held.", first)
        again = self.run_example()
        self.assertIn("found (an earlier run's)", again)
        self.assertNotIn(" added ", again, "nothing is added twice")
        self.assertIn("both have id 1", again)
        with self.daemon.session() as session:
            self.assertEqual(session.query("WeatherLocation").count(), 7)
            self.assertEqual(session.query("Report").count(), 3)


class SQLiteExampleTests(ExampleTests):
    layout = "sqlite"


class MixedExampleTests(ExampleTests):
    layout = "mixed"


del ExampleTests

if __name__ == "__main__":
    unittest.main()
