#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sipfast-parse as a user runs it: exit codes, stdout summary, stderr reasons, JSON, streams."""
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

EXE = sys.argv.pop(1)
CORPUS = Path(sys.argv.pop(1))
REGISTER = CORPUS / "seed" / "000_01_register_tcp.sip"


def run(*args, stdin=b""):
    return subprocess.run([EXE, *args], input=stdin, capture_output=True, timeout=60)


class SipfastParse(unittest.TestCase):
    def test_valid_file_prints_summary_and_exits_0(self):
        r = run(str(REGISTER))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("method: REGISTER\n", out)
        self.assertIn("via_branch: z9hG4bKX9dcbT3QIWzL-OaaaW2Y\n", out)
        self.assertIn("call_id: Z7dcb95rP@182.0.3.112\n", out)
        self.assertEqual(r.stderr, b"")

    def test_stdin_and_json(self):
        r = run("--json", stdin=REGISTER.read_bytes())
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual(j["method"], "REGISTER")
        self.assertEqual(j["header_count"], 17)
        self.assertIsNone(j["to_tag"])

    def test_invalid_message_exits_1_naming_line_and_fault(self):
        bad = REGISTER.read_bytes().replace(b"CSeq: 1 REGISTER", b"CSeq: x REGISTER")
        with tempfile.NamedTemporaryFile(suffix=".sip") as f:
            f.write(bad)
            f.flush()
            r = run(f.name)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, b"")
        err = r.stderr.decode()
        self.assertIn(f.name, err)
        self.assertIn("line 14:", err)  # the CSeq line
        self.assertIn("Invalid CSeq header: not a number", err)

    def test_usage_errors_exit_2(self):
        self.assertEqual(run("--no-such-flag").returncode, 2)
        self.assertEqual(run("/nonexistent/file.sip").returncode, 2)
        self.assertEqual(run("--isa", "neon", str(REGISTER)).returncode, 2)

    def test_stream_frames_messages_and_keepalives(self):
        one = REGISTER.read_bytes()
        r = run("--stream", "--json", stdin=one + b"\r\n\r\n" + one)
        self.assertEqual(r.returncode, 0, r.stderr)
        items = json.loads(r.stdout)
        self.assertEqual([i["type"] for i in items], ["request", "ping", "request"])
        r = run("--stream", stdin=one + one[:50])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"incomplete message at end of stream (50 bytes)", r.stderr)

    def test_every_isa_gives_the_same_summary(self):
        lines = run("--list-isa").stdout.decode().splitlines()
        isas = [l.split()[0] for l in lines if "not supported" not in l]
        self.assertIn("scalar", isas)
        outs = {isa: run("--isa", isa, str(REGISTER)).stdout for isa in isas}
        self.assertEqual(len(set(outs.values())), 1, outs.keys())

    def test_corpus_mode_counts_messages(self):
        r = run("--corpus", str(CORPUS))
        self.assertEqual(r.returncode, 0, r.stdout[-2000:])
        self.assertRegex(r.stdout.decode().splitlines()[-1], r"^\d+ messages: \d+ parsed, \d+ rejected as malformed \(as expected\), 0 unexpected$")


if __name__ == "__main__":
    unittest.main(verbosity=2)
