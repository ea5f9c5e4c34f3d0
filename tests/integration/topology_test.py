#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Topology hiding ([topology] hide) with real agents: SIPp callers that keep the route set call a
SIPp callee through sipfastd (two workers), and neither side's traces show the other's address in a
Via, Record-Route or Contact, while every call completes (INVITE, 180, 200, ACK, BYE, 200: the ACK
and BYE go to the Contact and Route of ours the caller was given). Every process started is stopped,
even on failure. Usage: topology_test.py SIPFASTD SIPP_SCENARIO_DIR"""
import os
import re
import shutil
import sys
import tempfile
import unittest

from harness import Daemon, DaemonClass, free_port, main, need, sipp_calls

SIPFASTD = sys.argv.pop(1)
SCENARIOS = sys.argv.pop(1)
SIPP = shutil.which("sipp")


def messages(trace, direction):
    """The messages of a SIPp -trace_msg file that were `direction` ("received" or "sent")."""
    return re.findall(rf"message {direction}[^\n]*\n\n(.*?)\n\n", trace, re.S)


def topology_lines(message):
    """The Via, Record-Route and Contact lines of a message (what hiding is about)."""
    return re.findall(r"^(?:Via|v|Record-Route|Contact|m):.*$", message, re.M | re.I)


class TopologyHiding(DaemonClass, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need("sipp", "sip-tester")
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-topo-")
        cls.proxy_port = free_port()
        cls.uas_port = free_port()
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f"""
listen = ["udp:127.0.0.1:{cls.proxy_port}"]
workers = 2
domains = ["127.0.0.1"]
[topology]
hide = true
[[location]]
user = "bob"
domain = "127.0.0.1"
contact = "sip:bob@127.0.0.1:{cls.uas_port}"
""")

    def test_calls_complete_and_neither_side_sees_the_other(self):
        calls = 4
        callee = sipp_calls(SIPP, SCENARIOS, self.tmp, self.proxy_port, self.uas_port, calls)
        with open(os.path.join(self.tmp, "uac.log")) as f:
            caller = f.read()
        us = f"127.0.0.1:{self.proxy_port}"
        uas = f"127.0.0.1:{self.uas_port}"
        uac_vias = re.findall(r"^Via: SIP/2.0/UDP (127\.0\.0\.1:\d+);", "\n".join(messages(caller, "sent")), re.M)
        self.assertTrue(uac_vias)
        uac = uac_vias[0]

        invites = [m for m in messages(callee, "received") if m.startswith("INVITE ")]
        byes = [m for m in messages(callee, "received") if m.startswith("BYE ")]
        self.assertEqual(len(invites), calls)
        self.assertEqual(len(byes), calls)
        for m in messages(callee, "received"):
            vias = re.findall(r"^Via: (.*)$", m, re.M)
            self.assertEqual(len(vias), 1, m)  # ours alone
            self.assertTrue(vias[0].startswith(f"SIP/2.0/UDP {us};branch=z9hG4bKsf"), m)
            for line in topology_lines(m):
                self.assertNotIn(uac, line, m)
        rr = re.findall(r"^Record-Route: (.*)$", invites[0], re.M)
        self.assertEqual(len(rr), 1)
        self.assertTrue(rr[0].startswith(f"<sip:{us};lr;sfd="), rr[0])
        self.assertRegex(invites[0], rf"(?m)^Contact: <sip:sfc\.[A-Za-z0-9_-]+@{re.escape(us)}>")
        # The caller's BYE went to the Contact of ours it was given; the callee gets it at its own.
        self.assertTrue(byes[0].startswith(f"BYE sip:{uas};transport=UDP SIP/2.0"), byes[0])

        answers = [m for m in messages(caller, "received") if m.startswith("SIP/2.0 ")]
        self.assertGreaterEqual(len(answers), 3 * calls)  # 100, 180, 200 to the INVITE, 200 to the BYE
        for m in answers:
            self.assertNotIn(uas, m)
            vias = re.findall(r"^Via: (.*)$", m, re.M)
            self.assertEqual(len(vias), 1, m)  # the caller's own, given back
            self.assertTrue(vias[0].startswith(f"SIP/2.0/UDP {uac};"), m)
        ok = next(m for m in answers if m.startswith("SIP/2.0 200") and "INVITE" in m)
        self.assertRegex(ok, rf"(?m)^Contact: <sip:sfc\.[A-Za-z0-9_-]+@{re.escape(us)}>")
        self.assertRegex(ok, rf"(?m)^Record-Route: <sip:{re.escape(us)};lr;sfd=[0-9a-f]+>$")
        # In-dialog requests went to the Contact of ours, through us.
        acks = [m for m in messages(caller, "sent") if m.startswith("ACK ")]
        self.assertTrue(acks[0].startswith(f"ACK sip:sfc."), acks[0])


    def test_the_callee_hangs_up_through_the_route_set_it_was_shown(self):
        calls = 3
        callee = sipp_calls(SIPP, SCENARIOS, self.tmp, self.proxy_port, self.uas_port, calls,
                            uac_scenario="uac_rr_hangup.xml", uas_scenario="uas_rr_hangup.xml")
        with open(os.path.join(self.tmp, "uac.log")) as f:
            caller = f.read()
        us = f"127.0.0.1:{self.proxy_port}"
        uas = f"127.0.0.1:{self.uas_port}"
        uac = re.findall(r"^Via: SIP/2.0/UDP (127\.0\.0\.1:\d+);", "\n".join(messages(caller, "sent")), re.M)[0]
        # The callee's BYE went to the caller's Contact of ours along our Record-Route...
        sent_byes = [m for m in messages(callee, "sent") if m.startswith("BYE ")]
        self.assertEqual(len(sent_byes), calls)
        self.assertTrue(sent_byes[0].startswith(f"BYE sip:sfc."), sent_byes[0])
        self.assertRegex(sent_byes[0], rf"(?m)^Route: <sip:{re.escape(us)};lr;sfd=")
        # ...and reached the caller at its own Contact, with our Via alone.
        byes = [m for m in messages(caller, "received") if m.startswith("BYE ")]
        self.assertEqual(len(byes), calls)
        self.assertTrue(byes[0].startswith(f"BYE sip:sipp@{uac};transport=UDP SIP/2.0"), byes[0])
        for m in messages(caller, "received"):
            self.assertNotIn(uas, m)
            if m.startswith("BYE "):
                vias = re.findall(r"^Via: (.*)$", m, re.M)
                self.assertEqual(len(vias), 1, m)
                self.assertTrue(vias[0].startswith(f"SIP/2.0/UDP {us};branch=z9hG4bKsf"), m)
        # The callee's 200 to its BYE came back with the callee's own Via, and nothing of the caller.
        for m in messages(callee, "received"):
            for line in topology_lines(m):
                self.assertNotIn(uac, line, m)
        oks = [m for m in messages(callee, "received") if m.startswith("SIP/2.0 200")]
        self.assertEqual(len(oks), calls)
        self.assertTrue(re.findall(r"^Via: (.*)$", oks[0], re.M)[0].startswith(f"SIP/2.0/UDP {uas};"), oks[0])


if __name__ == "__main__":
    main()
