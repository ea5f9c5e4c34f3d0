#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The IMS edge with sipfastd as the registrar, driven by the seeds' own messages (addresses, ports,
CSeq and branches of repeated requests changed only) and checked header by header.
Seed 004: IMS AKA over IPv6 UDP in compact forms. The first REGISTER is challenged with AKAv1-MD5;
the phone's USIM (usim.cpp: Milenage with the subscriber's K and OPc) verifies AUTN, finds the
sequence number behind its own and answers with AUTS; the new challenge carries the resynchronised
SQN; RES answers it; the 200 carries the bindings, P-Associated-URI, Authentication-Info and Date;
its reg-event SUBSCRIBE gets 200 and a full reginfo NOTIFY; a call to its tel: identity reaches it.
Seed 000: sec-agree. With the embedded default's choice (accept) and no authentication, as in the
capture's network, the phone's REGISTER over TCP with Require: sec-agree is answered 200, not 420.
With the phone an AKA subscriber, the 401 carries Security-Server with its six mechanisms, the
REGISTER that answers it carries them back in Security-Verify, and a list changed on the way is
answered 494.
Usage: ims_test.py SIPFASTD USIM CORPUS_DIR"""
import hashlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

from harness import Daemon, DaemonClass, StreamReader, all_headers, free_port, header, ipv6_loopback_port, main

SIPFASTD = sys.argv.pop(1)
USIM = sys.argv.pop(1)
CORPUS = sys.argv.pop(1)

# TS 35.208 test set 1: the K and OPc of the test USIM.
K = "465b5ce8b199b49faa5f0a2ee238a6bc"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"


def seed(name):
    with open(os.path.join(CORPUS, "seed", name), "rb") as f:
        return f.read().decode()


def md5(text):
    return hashlib.md5(text if isinstance(text, bytes) else text.encode()).hexdigest()


def challenge_of(msg):
    """The parameters of an AKA challenge: realm, nonce, algorithm, qop."""
    value = header(msg, "WWW-Authenticate")
    assert value is not None, msg
    return dict(re.findall(r'(\w+)="?([^",]*)"?', value))


def usim(verb, nonce, *more):
    out = subprocess.run([USIM, verb, K, OPC, nonce, *map(str, more)], capture_output=True, text=True, check=True)
    return out.stdout.split()


def aka_response(user, realm, uri, nonce, res_hex, nc, cnonce, method="REGISTER"):
    """RFC 3310 §3.3 with RFC 2617 qop=auth: HA1 over RES's raw bytes (empty for a resync, §3.4)."""
    ha1 = md5(f"{user}:{realm}:".encode() + bytes.fromhex(res_hex))
    return md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{md5(f'{method}:{uri}')}"), ha1


class Seed004Aka(DaemonClass, unittest.TestCase):
    realm = "test.3gpp.com"
    impi = "001010123456789@test.3gpp.com"
    seed_ue = "[2001::21f:29ff:fe7c:8f51]:5060"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-ims004-")
        cls.port, cls.ue = ipv6_loopback_port(), ipv6_loopback_port()
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f"""
listen = ["udp:[::1]:{cls.port}"]
domains = ["{cls.realm}"]
[policy]
allow_loopback = true
[[subscriber]]
impi = "{cls.impi}"
impu = ["sip:+11234567890@{cls.realm}"]
k = "{K}"
opc = "{OPC}"
sqn = 0
[[alias]]
aor = "sip:+11234567890@{cls.realm}"
identities = ["sip:+11234567890@{cls.realm}", "tel:+11234567890"]
""")

    def moved(self, name, cseq=None, branch=None):
        text = seed(name).replace(self.seed_ue, f"[::1]:{self.ue}")
        if cseq:
            text = re.sub(r"^CSeq: \d+", f"CSeq: {cseq}", text, flags=re.M)
        if branch:
            text = re.sub(r"branch=\w+", f"branch={branch}", text)
        return text

    def exchange(self, phone, text):
        phone.sendto(text.encode(), ("::1", self.port))
        return phone.recvfrom(65535)[0].decode()

    def same_dialog_headers(self, sent, got):
        for name in ("Via", "From", "Call-ID", "CSeq"):
            compact = {"Via": "v", "From": "f", "Call-ID": "i"}.get(name)
            want = header(sent, name) or (compact and header(sent, compact))
            self.assertEqual(header(got, name), want, name)
        self.assertTrue(header(got, "To").startswith(header(sent, "t") + ";tag="), got)

    def answered(self, text, nonce, *, res_hex="", auts=None, nc="00000001"):
        """Seed 004's second REGISTER answering `nonce` in the seed's own folded Authorization."""
        response, _ = aka_response(self.impi, self.realm, f"sip:{self.realm}", nonce, res_hex, nc, "11259375")
        text = re.sub(r'\bnonce="[^"]*"', f'nonce="{nonce}"', text)
        text = re.sub(r'response="[^"]*"', f'response="{response}"', text)
        text = text.replace(',\r\n opaque="MTcyMjU3ODA2NDo=SU1TLVNJUCBTZXJ2ZXI="', "")  # not one of ours
        if auts:
            text = text.replace("algorithm=AKAv1-MD5,", f'algorithm=AKAv1-MD5,\r\n auts="{auts}",')
        return text

    def test_seed_004_aka_registration_with_resync_then_a_call(self):
        phone = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.addCleanup(phone.close)
        phone.bind(("::1", self.ue))
        phone.settimeout(3)

        # 1. The first REGISTER (compact forms, the IMPI and empty nonce): 401 with AKAv1-MD5.
        first = self.moved("004_01_register_compact_ipv6.sip")
        got = self.exchange(phone, first)
        self.assertTrue(got.startswith("SIP/2.0 401 Unauthorized"), got)
        self.same_dialog_headers(first, got)
        c = challenge_of(got)
        self.assertEqual((c["realm"], c["algorithm"], c["qop"]), (self.realm, "AKAv1-MD5", "auth"))
        sqn, _ = usim("answer", c["nonce"])
        self.assertEqual(int(sqn), 1 * 32)  # SEQ 1, IND 0: the first vector of a fresh subscriber

        # 2. The USIM has seen SEQ 1000 (the network's counters were restored from an old backup):
        #    it refuses SEQ 1 and sends AUTS; the next challenge carries SEQ 1001.
        auts = usim("resync", c["nonce"], 1000)[0]
        resync = self.answered(self.moved("004_03_register_aka_auth_ipv6.sip"), c["nonce"], auts=auts)
        got = self.exchange(phone, resync)
        self.assertTrue(got.startswith("SIP/2.0 401 Unauthorized"), got)
        c = challenge_of(got)
        sqn, res = usim("answer", c["nonce"])
        self.assertEqual(int(sqn), 1001 * 32)

        # 3. RES answers it: 200 with the binding, the identities and Authentication-Info.
        ok_request = self.answered(self.moved("004_03_register_aka_auth_ipv6.sip", cseq=575513375, branch="z9hG4bK843051066"),
                                   c["nonce"], res_hex=res)
        got = self.exchange(phone, ok_request)
        self.assertTrue(got.startswith("SIP/2.0 200 OK"), got)
        self.same_dialog_headers(ok_request, got)
        self.assertEqual(header(got, "Contact"), f"<sip:+11234567890@[::1]:{self.ue}>;expires=7200")
        self.assertEqual(header(got, "P-Associated-URI"), f"<sip:+11234567890@{self.realm}>, <tel:+11234567890>")
        _, ha1 = aka_response(self.impi, self.realm, f"sip:{self.realm}", c["nonce"], res, "00000001", "11259375")
        rspauth = md5(f"{ha1}:{c['nonce']}:00000001:11259375:auth:{md5(f':sip:{self.realm}')}")
        self.assertEqual(header(got, "Authentication-Info"), f'qop=auth, rspauth="{rspauth}", cnonce="11259375", nc=00000001')
        self.assertRegex(header(got, "Date"), r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$")

        # 4. The phone's reg-event SUBSCRIBE (seed 004's, from where it registered): 200 and a full
        #    NOTIFY as the seed's S-CSCF sent it, where they must agree; its reginfo parsed.
        subscribe = seed("004_05_subscribe_reg.sip").replace("10.133.202.46:50997", f"[::1]:{self.ue}")
        phone.sendto(subscribe.encode(), ("::1", self.port))
        got = [phone.recvfrom(65535)[0].decode() for _ in range(2)]
        ok = next(m for m in got if m.startswith("SIP/2.0"))
        notify = next(m for m in got if m.startswith("NOTIFY"))
        self.assertTrue(ok.startswith("SIP/2.0 200 OK"), ok)
        seed_notify = seed("004_07_notify_reginfo_xml.sip")
        self.assertTrue(notify.startswith(f"NOTIFY sip:+11234567890@[::1]:{self.ue} SIP/2.0"), notify)
        for name in ("Call-ID", "To", "Event", "Content-Type"):
            self.assertEqual(header(notify, name), header(seed_notify, name), name)
        self.assertEqual(header(notify, "CSeq").split()[1], "NOTIFY")
        self.assertRegex(header(notify, "Subscription-State"), r"^active;expires=\d+$")
        info = ET.fromstring(notify.split("\r\n\r\n", 1)[1])
        ns = {"r": "urn:ietf:params:xml:ns:reginfo"}
        self.assertEqual(info.get("state"), "full")
        reg = {r.get("aor"): r for r in info.findall("r:registration", ns)}
        mine = reg[f"sip:+11234567890@{self.realm}"]
        self.assertEqual(mine.get("state"), "active")
        self.assertEqual([u.text for u in mine.findall("r:contact/r:uri", ns)], [f"sip:+11234567890@[::1]:{self.ue}"])
        self.assertIn("tel:+11234567890", reg)  # the implicit set: the alias has its own registration
        phone.sendto((f"SIP/2.0 200 OK\r\nVia: {header(notify, 'Via')}\r\nFrom: {header(notify, 'From')}\r\n"
                      f"To: {header(notify, 'To')}\r\nCall-ID: {header(notify, 'Call-ID')}\r\n"
                      f"CSeq: {header(notify, 'CSeq')}\r\nContent-Length: 0\r\n\r\n").encode(), ("::1", self.port))

        # 5. A call to the phone's tel: identity reaches its registered contact.
        caller = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.addCleanup(caller.close)
        caller.bind(("::1", 0))
        cport = caller.getsockname()[1]
        caller.sendto((f"INVITE tel:+11234567890 SIP/2.0\r\nv: SIP/2.0/UDP [::1]:{cport};branch=z9hG4bKims004call\r\n"
                       f"Max-Forwards: 70\r\nf: <sip:+19876543210@{self.realm}>;tag=c1\r\nt: <tel:+11234567890>\r\n"
                       f"i: ims004-call@[::1]\r\nCSeq: 1 INVITE\r\nm: <sip:+19876543210@[::1]:{cport}>\r\nl: 0\r\n\r\n").encode(),
                      ("::1", self.port))
        caller.settimeout(3)
        invite = phone.recvfrom(65535)[0].decode()
        self.assertTrue(invite.startswith(f"INVITE sip:+11234567890@[::1]:{self.ue} SIP/2.0"), invite)


class Seed000SecAgree(DaemonClass, unittest.TestCase):
    ims = "ims.mnc001.mcc001.3gppnetwork.org"
    impi = "001010123456712@ims.mnc001.mcc001.3gppnetwork.org"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-ims000-")
        cls.port, cls.aka_port = free_port(), free_port()
        common = f"""domains = ["{cls.ims}"]
[policy]
allow_loopback = true
[[alias]]
aor = "sip:001010123456712@{cls.ims}"
identities = ["sip:1012@{cls.ims}", "tel:1012"]
"""
        # The embedded default's sec-agree choice and no authentication: the capture's network.
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f'listen = ["udp:127.0.0.1:{cls.port}", "tcp:127.0.0.1:{cls.port}"]\n' + common)
        cls.aka = Daemon(SIPFASTD, cls.tmp, f'listen = ["udp:127.0.0.1:{cls.aka_port}", "tcp:127.0.0.1:{cls.aka_port}"]\n' +
                         common + f"""
[[subscriber]]
impi = "{cls.impi}"
impu = ["sip:001010123456712@{cls.ims}"]
k = "{K}"
opc = "{OPC}"
""", name="sipfastd-aka")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.aka.stop()
        finally:
            super().tearDownClass()

    def register(self, port, text):
        conn = socket.create_connection(("127.0.0.1", port), timeout=3)
        self.addCleanup(conn.close)
        conn.sendall(text.encode())
        return conn, StreamReader(conn)

    def moved(self, ue, cseq=1, branch="z9hG4bKX9dcbT3QIWzL-OaaaW2Y"):
        text = seed("000_01_register_tcp.sip").replace("182.0.3.112:5060", f"127.0.0.1:{ue}")
        text = text.replace("CSeq: 1 REGISTER", f"CSeq: {cseq} REGISTER")
        # One registration Call-ID per phone: the tests register the seed's identity from several.
        text = text.replace("Call-ID: Z7dcb95rP@182.0.3.112", f"Call-ID: Z7dcb95rP-{ue}@182.0.3.112")
        return text.replace("branch=z9hG4bKX9dcbT3QIWzL-OaaaW2Y", f"branch={branch}")

    def test_seed_000_registers_with_sec_agree_and_no_authentication(self):
        ue = free_port()
        text = self.moved(ue)
        conn, reader = self.register(self.port, text)
        got = reader.message()
        self.assertTrue(got.startswith("SIP/2.0 200 OK"), got)
        local_port = conn.getsockname()[1]
        self.assertEqual(header(got, "Via"), f"SIP/2.0/TCP 127.0.0.1:{ue};branch=z9hG4bKX9dcbT3QIWzL-OaaaW2Y;"
                                             f"received=127.0.0.1;rport={local_port}")
        for name in ("From", "Call-ID", "CSeq"):
            self.assertEqual(header(got, name), header(text, name), name)
        self.assertTrue(header(got, "To").startswith(header(text, "To") + ";tag="))
        # The other tests' phones registered the same identity: ours is the contact on our port.
        contact = next(c for c in all_headers(got, "Contact") if c.startswith(f"<sip:001010123456712@127.0.0.1:{ue}>"))
        self.assertTrue(contact.startswith(f"<sip:001010123456712@127.0.0.1:{ue}>;expires=7200;"), contact)
        self.assertIn('+sip.instance="<urn:gsma:imei:86130905-267370-0>"', contact)
        self.assertEqual(header(got, "P-Associated-URI"), f"<sip:1012@{self.ims}>, <tel:1012>")
        self.assertIsNone(header(got, "Security-Server"))  # no challenge to carry it (see docs/configuration.md)

    def test_seed_000_registers_subscribes_to_reg_and_is_called(self):
        """Seed 000 end to end with sipfast as the registrar: REGISTER over TCP with sec-agree, the
        reg-event SUBSCRIBE over UDP (for its alias sip:1012) and our NOTIFY, then UE1's INVITE to
        tel:1012 reaching the registered phone."""
        ue = free_port()
        ue_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(ue_udp.close)
        ue_udp.bind(("127.0.0.1", ue))
        ue_udp.settimeout(3)
        _, reader = self.register(self.port, self.moved(ue, branch="z9hG4bKims000reg"))
        self.assertTrue(reader.message().startswith("SIP/2.0 200 OK"))

        # The SUBSCRIBE as the seed has it, its Route our address: 200, then a full NOTIFY.
        subscribe = seed("000_03_subscribe_reg_udp.sip").replace("182.0.3.112:5060", f"127.0.0.1:{ue}")
        subscribe = subscribe.replace("<sip:10.88.120.34:5060;lr>", f"<sip:127.0.0.1:{self.port};lr>")
        ue_udp.sendto(subscribe.encode(), ("127.0.0.1", self.port))
        got = [ue_udp.recvfrom(65535)[0].decode() for _ in range(2)]
        ok = next(m for m in got if m.startswith("SIP/2.0"))
        notify = next(m for m in got if m.startswith("NOTIFY"))
        self.assertTrue(ok.startswith("SIP/2.0 200 OK"), ok)
        for name in ("From", "Call-ID", "CSeq"):
            self.assertEqual(header(ok, name), header(subscribe, name), name)
        to_tag = re.search(r";tag=([^;>\s]+)", header(ok, "To")).group(1)
        # The NOTIFY as the seed's S-CSCF sent it, header by header where they must agree.
        self.assertTrue(notify.startswith(f"NOTIFY sip:1012@127.0.0.1:{ue} SIP/2.0"), notify)
        self.assertEqual(header(notify, "From"), f"<sip:1012@{self.ims}>;tag={to_tag}")
        self.assertEqual(header(notify, "To"), f"<sip:1012@{self.ims}>;tag=Z1dcbT3")
        self.assertEqual(header(notify, "Call-ID"), "Y-dcbT3QI@182.0.3.112")
        self.assertEqual(header(notify, "Event"), "reg")
        self.assertRegex(header(notify, "Subscription-State"), r"^active;expires=\d+$")
        self.assertEqual(header(notify, "Content-Type"), "application/reginfo+xml")
        body = notify.split("\r\n\r\n", 1)[1]
        ns = {"r": "urn:ietf:params:xml:ns:reginfo"}
        info = ET.fromstring(body)
        self.assertEqual(info.get("state"), "full")
        uris = [u.text for u in info.findall(".//r:registration/r:contact/r:uri", ns)]
        self.assertIn(f"sip:001010123456712@127.0.0.1:{ue}", uris)
        states = {r.get("aor"): r.get("state") for r in info.findall("r:registration", ns)}
        self.assertEqual(states.get(f"sip:001010123456712@{self.ims}"), "active", states)
        ue_udp.sendto((f"SIP/2.0 200 OK\r\nVia: {header(notify, 'Via')}\r\nFrom: {header(notify, 'From')}\r\n"
                       f"To: {header(notify, 'To')}\r\nCall-ID: {header(notify, 'Call-ID')}\r\n"
                       f"CSeq: {header(notify, 'CSeq')}\r\nContent-Length: 0\r\n\r\n").encode(),
                      ("127.0.0.1", self.port))

        # UE1's INVITE to tel:1012 (the seed's, over TCP) reaches the registered phone by the
        # connection it registered over (a binding made over TCP is reached by its flow).
        invite = seed("000_06_invite_tcp_from_ue1.sip").replace("182.0.3.113:5060", "127.0.0.1:1")
        invite = invite.replace("<sip:10.88.120.34:5060;lr>", f"<sip:127.0.0.1:{self.port};lr>")
        ue1 = socket.create_connection(("127.0.0.1", self.port), timeout=3)
        self.addCleanup(ue1.close)
        ue1.sendall(invite.encode())
        forwarded = reader.message()
        self.assertTrue(forwarded.startswith(f"INVITE sip:001010123456712@127.0.0.1:{ue} SIP/2.0"), forwarded)
        self.assertEqual(header(forwarded, "Call-ID"), header(invite, "Call-ID"))
        self.assertIsNone(header(forwarded, "Proxy-Require"))  # sec-agree stays between UE1 and us

    def test_seed_000_aka_subscriber_agrees_on_security(self):
        ue = free_port()
        first = self.moved(ue)
        offered = header(first, "Security-Client").split(",")
        self.assertEqual(len(offered), 6)
        _, reader = self.register(self.aka_port, first)
        got = reader.message()
        self.assertTrue(got.startswith("SIP/2.0 401 Unauthorized"), got)
        server = header(got, "Security-Server")
        mechanisms = [m.strip() for m in server.split(",")]
        self.assertEqual([re.sub(r";sfv=[0-9a-f]{16}$", "", m) for m in mechanisms], offered)
        c = challenge_of(got)
        self.assertEqual(c["algorithm"], "AKAv1-MD5")
        _, res = usim("answer", c["nonce"])

        # The REGISTER that answers: the seed's, with the answer and Security-Verify.
        def answering(verify, cseq, branch):
            response, _ = aka_response(self.impi, self.ims, f"sip:{self.ims}", c["nonce"], res, "00000001", "0a1b2c3d")
            auth = (f'Authorization: Digest username="{self.impi}",realm="{self.ims}",uri="sip:{self.ims}",'
                    f'nonce="{c["nonce"]}",response="{response}",algorithm=AKAv1-MD5,qop=auth,nc=00000001,cnonce="0a1b2c3d"')
            text = re.sub(r"^Authorization: .*$", auth, self.moved(ue, cseq, branch), flags=re.M)
            return text.replace("Content-Length: 0", f"Security-Verify: {verify}\r\nContent-Length: 0")

        # A list with the strongest mechanism dropped on the way (a downgrade): 494.
        _, reader = self.register(self.aka_port, answering(", ".join(mechanisms[1:]), 2, "z9hG4bKims000b"))
        got = reader.message()
        self.assertTrue(got.startswith("SIP/2.0 494 Security Agreement Required"), got)
        _, reader = self.register(self.aka_port, answering(server, 3, "z9hG4bKims000c"))
        got = reader.message()
        self.assertTrue(got.startswith("SIP/2.0 200 OK"), got)
        self.assertEqual(header(got, "P-Associated-URI"), f"<sip:1012@{self.ims}>, <tel:1012>")
        self.assertIsNotNone(header(got, "Authentication-Info"))


if __name__ == "__main__":
    main()
