"""Tests of the persistence harness: /usr/bin/python3 -m pytest bench/test_persistence.py

The server tests need redis-server and redis-benchmark on PATH and are skipped without them.
"""

import os
import shutil
import tempfile
import unittest

import persistence as cli
from benchlib import persistence, persistence_report, servers, workload

HAVE_REDIS = bool(shutil.which("redis-server") and shutil.which("redis-benchmark"))


def _aof_sample(server, mode, pipeline, rps, us):
    return {"server": server, "mode": mode, "pipeline": pipeline, "rps": rps, "us_per_req": us,
            "p50_ms": 0.5, "p99_ms": 1.0}


def _results(**parts) -> dict:
    base = {"date": "now", "command": "bench/persistence.sh", "data_dir_fs": "/dev/x on / (ext4)",
            "machine": {"nproc": 2, "cpu_model": "cpu", "virtualized": False, "mem_gib": 1,
                        "os": "os", "kernel": "k"},
            "versions": {"redis-server": "r", "redis-benchmark": "b"},
            "settings": {"pipelines": [1, 16], "requests": [10, 100], "aof_modes": ["off",
                         "always"], "clients": 50, "keyspace": 10, "value_size": 32,
                         "snapshot_keys": 10, "memory_keys": 10, "memory_value_size": 1024,
                         "memory_pipeline": 16, "server_cpus": "0", "client_cpus": "1",
                         "reps": 1, "quick": False},
            "aof": [], "aof_files": [], "snapshot": [], "snapshot_setup": [], "memory": [],
            "memory_setup": [], "latency": [], "notes": []}
    base.update(parts)
    return base


class ReportTest(unittest.TestCase):
    def test_targets_read_off_medians(self):
        aof = [_aof_sample("redis", "always", 16, 1000, 5.0),
               _aof_sample("shoal-t1", "always", 16, 1500, 4.0),
               _aof_sample("redis", "off", 16, 3000, 2.0),
               _aof_sample("shoal-t1", "off", 16, 2000, 2.5)]
        memory = [{"server": "shoal-t1", "base_rss_kb": 1000, "peak_rss_kb": 1100,
                   "base_pss_kb": 1000, "peak_pss_kb": 1150, "peak_child_rss_kb": 0,
                   "cow_bytes": 0, "bgsave_s": 1.0, "writes_during": 5}]
        latency = [{"server": "shoal-t1", "snapshot": True, "max_ms": 12.5, "rps": 1, "p50_ms": 1,
                    "p99_ms": 2, "bgsave_s": 1, "snapshot_share": 0.5},
                   {"server": "shoal-t1", "snapshot": False, "max_ms": 3.0, "rps": 1,
                    "p50_ms": 1, "p99_ms": 2}]
        results = _results(aof=aof, memory=memory, latency=latency,
                           memory_setup=[{"server": "shoal-t1", "used_memory": 1000 * 1024}])
        verdicts = {(t, s): v for t, s, v in persistence_report.targets(results)}
        self.assertTrue(verdicts[("always-fsync ops/s ≥ Redis's (SET -P 16, -c 50)",
                                  "shoal-t1")].startswith("met"))
        self.assertTrue(verdicts[("CPU per request ≤ Redis's (SET -P 16, off)",
                                  "shoal-t1")].startswith("NOT met"))
        memory_verdict = [v for (t, s), v in verdicts.items() if t.startswith("snapshot peak")]
        self.assertEqual(memory_verdict, ["NOT met: 15.0%"])
        latency_verdict = [v for (t, s), v in verdicts.items() if t.startswith("no latency")]
        self.assertEqual(latency_verdict, ["NOT met: max 12.50 ms"])
        text = persistence_report.render(results)
        self.assertIn("| always | shoal-t1 | 1,500 | 1.50× | 4.00 (4.00–4.00) | 0.80× |", text)


class ArgsTest(unittest.TestCase):
    def test_requests_follow_pipelines(self):
        args = cli.parse_args(["--pipelines", "1,16,32", "--requests", "7"])
        self.assertEqual(args.requests, [7, 7, 7])
        args = cli.parse_args(["--quick"])
        self.assertEqual(args.requests, [10_000, 100_000])

    def test_spec_options_come_last(self):
        spec = servers.ServerSpec("redis", "redis", "redis-server", 1, "", "",
                                  persistence.server_options("/tmp/x", "yes", "always"))
        argv = spec.command(1234)
        # A repeated option takes its last value: ours must follow the defaults.
        self.assertEqual(argv[-6:], ["--appendonly", "yes", "--appendfsync", "always",
                                     "--auto-aof-rewrite-percentage", "0"])
        first = argv.index("--appendonly")
        self.assertEqual(argv[first + 1], "no")  # The default, overridden by the later one.
        self.assertGreater(len(argv) - argv[::-1].index("--appendonly") - 1, first)


@unittest.skipUnless(HAVE_REDIS, "needs redis-server and redis-benchmark")
class RedisTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pbench-test-")
        spec = servers.ServerSpec("redis", "redis", "redis-server", 1, "", "",
                                  persistence.server_options(self.dir))
        self.server = servers.Server(spec, self.dir).start()

    def tearDown(self):
        servers.stop_all()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_snapshot_times_and_reload(self):
        persistence.fill(self.server, 5000, 32)
        got = persistence.snapshot_times(self.server, 5000)
        self.assertGreater(got["save_s"], 0)
        self.assertGreater(got["bgsave_s"], 0)
        self.assertGreater(got["rdb_bytes"], 5000 * 16)  # Keys; LZF squeezes the values.
        self.assertGreater(got["fork_us"], 0)  # Redis forks for BGSAVE.
        self.assertTrue(os.path.exists(os.path.join(self.dir, "dump.rdb")))
        # restart() checked DBSIZE; the keys are redis-benchmark's names.
        with self.server.client() as client:
            self.assertEqual(client.call("GET", "key:000000004999"), b"v" * 32)

    def test_bgsave_memory_sees_the_fork(self):
        persistence.fill(self.server, 20000, 1024)
        wl = workload.Workload(5, 20000, 32, 1, 0, "", "redis-benchmark", 60.0)
        got = persistence.bgsave_memory(self.server, wl, 20000, 1024, 16, before_s=0.2)
        self.assertGreater(got["base_rss_kb"], 20000)  # ~20 MB of values.
        self.assertGreater(got["writes_during"], 0)
        self.assertGreater(got["fork_us"], 0)

    def test_get_latency_with_snapshot(self):
        persistence.fill(self.server, 2000, 32)
        wl = workload.Workload(5, 2000, 32, 1, 0, "", "redis-benchmark", 60.0)
        got = persistence.get_latency(self.server, wl, 2000, 20000, snapshot=True, delay_s=0.05)
        self.assertGreater(got["rps"], 0)
        self.assertGreaterEqual(got["max_ms"], got["p99_ms"])
        self.assertGreater(got["snapshot_share"], 0)


if __name__ == "__main__":
    unittest.main()
