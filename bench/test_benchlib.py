"""Tests of the harness itself: /usr/bin/python3 -m unittest discover -s bench -v

Pure parts run anywhere; ServerTest needs redis-server on PATH and is skipped without it.
"""

import shutil
import tempfile
import unittest

import run
from benchlib import memory, report, resp, servers, workload

CSV_7_0 = '''"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"MSET (10 keys)","52356.02","0.661","0.216","0.567","1.159","1.775","4.839"
'''


class ParseTest(unittest.TestCase):
    def test_csv_row_by_label(self):
        row = workload.parse_csv(CSV_7_0, "mset")
        self.assertEqual(row["rps"], 52356.02)
        self.assertEqual(row["p50_latency_ms"], 0.567)
        self.assertEqual(row["p99_latency_ms"], 1.775)

    def test_csv_without_the_test_row_fails(self):
        with self.assertRaises(workload.BenchmarkError):
            workload.parse_csv(CSV_7_0, "get")

    def test_csv_without_header_fails(self):
        with self.assertRaises(workload.BenchmarkError):
            workload.parse_csv("SET: 12345.00 requests per second\n", "set")

    def test_cpu_list(self):
        self.assertEqual(servers.parse_cpu_list("0"), [0])
        self.assertEqual(servers.parse_cpu_list("0,2-4"), [0, 2, 3, 4])

    def test_encode_and_info(self):
        self.assertEqual(resp.encode("SET", b"k", 7), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n7\r\n")
        info = resp.parse_info(b"# Memory\r\nused_memory:123\r\nused_memory_human:123B\r\n")
        self.assertEqual(info["used_memory"], "123")

    def test_memory_keys_are_fixed_width(self):
        self.assertEqual(memory.key(7), b"key:000000000007")
        self.assertEqual(len(memory.value(999_999, 32)), 32)
        self.assertNotEqual(memory.value(1, 32), memory.value(2, 32))


class ArgsTest(unittest.TestCase):
    def test_two_thread_shoal_gets_both_cpus(self):
        args = run.parse_args(["--threads", "1,2", "--shoal-bin", "/x"])
        cpus = {s.name: s.cpus for s in run.server_specs(args)}
        self.assertEqual(cpus, {"redis": "0", "shoal-t1": "0", "shoal-t2": "0,1"})

    def test_no_pin(self):
        args = run.parse_args(["--no-pin", "--only", "shoal"])
        self.assertEqual({s.cpus for s in run.server_specs(args)}, {""})

    def test_requests_per_pipeline(self):
        self.assertEqual(run.parse_args(["--requests", "5"]).requests, [5, 5])
        self.assertEqual(run.parse_args(["--quick"]).requests, [10000, 100000])
        self.assertEqual(run.parse_args(["--pipelines", "16,1,4"]).requests,
                         [1500000, 150000, 1500000])
        with self.assertRaises(SystemExit):
            run.parse_args(["--requests", "1,2,3"])


def _sample(server, us, rps):
    return {"server": server, "test": "get", "pipeline": 1, "rep": 1, "requests": 10,
            "us_per_req": us, "rps": rps, "p50_ms": 0.5, "p99_ms": 0.9, "server_util": 1.0,
            "client_util": 0.5, "other_util": 0.0}


class ReportTest(unittest.TestCase):
    def test_render_has_ratios_and_skips(self):
        results = {
            "date": "today", "command": "bench/run.sh", "notes": [],
            "machine": {"nproc": 2, "cpu_model": "cpu", "virtualized": False, "kernel": "k",
                        "mem_gib": 1, "os": "os"},
            "versions": {"redis-server": "r", "redis-benchmark": "b", "python": "3"},
            "settings": {"quick": False, "reps": 2, "tests": ["get", "set"], "pipelines": [1],
                         "requests": [10], "clients": 50, "keyspace": 100, "value_size": 32,
                         "memory_keys": 0, "client_cpus": "1", "freeze_idle": True},
            "servers": [{"name": "redis", "kind": "redis", "threads": 1, "cpus": "0",
                         "affinity": [0]},
                        {"name": "shoal-t1", "kind": "shoal", "threads": 1, "cpus": "0",
                         "affinity": [0]}],
            "cells": [{"test": "get", "pipeline": 1, "requests": 10},
                      {"test": "set", "pipeline": 1, "requests": 10}],
            "samples": [_sample("redis", 10.0, 100), _sample("redis", 12.0, 120),
                        _sample("shoal-t1", 5.0, 200)],
            "skipped": {"shoal-t1": {"set": "SET -> 'ERR'"}},
            "memory": [],
        }
        text = report.render(results)
        self.assertIn("| GET, -P 1 | 11.00 | 5.00 | 0.45× |", text)
        self.assertIn("unsupported", text)
        self.assertIn("skipped: SET -> 'ERR'", text)


@unittest.skipUnless(shutil.which("redis-server"), "needs redis-server")
class ServerTest(unittest.TestCase):
    def test_start_measure_and_stop(self):
        spec = servers.ServerSpec("redis", "redis", "redis-server", 1, "")
        server = servers.Server(spec, tempfile.mkdtemp()).start()
        try:
            self.assertTrue(servers.listens_on(server.pid, server.port))
            self.assertEqual(workload.preflight(server, ["set", "get", "incr", "mset"]),
                             {"set": None, "get": None, "incr": None, "mset": None})
            with server.client() as client:
                before = server.cpu().ns
                memory.load(client, 2000, 32)
                self.assertEqual(client.call("DBSIZE"), 2000)
                self.assertGreater(server.cpu().ns, before)
        finally:
            server.stop()
        self.assertFalse(server.alive())


if __name__ == "__main__":
    unittest.main()
