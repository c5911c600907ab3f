"""Unit tests of the region bed's own parts that need no namespace and no root.

The nfnetlink encoding of wandelay.py (attributes, messages) read back by its own parser;
the delayer's hold-and-release order and loss with a fake queue; the DNS reply parser of
nsio.py on a reply built by hand (name compression, a CNAME before the A records, an
NXDOMAIN); the Vivaldi distance of regionbed.wan_rtt_ms; how failover.py tells which
region an answer came from; the nearest-rank percentile of the benchmark.
"""

import os
import random
import socket
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import failover  # noqa: E402
import nsio  # noqa: E402
import regionbed  # noqa: E402
import regions  # noqa: E402
import wandelay  # noqa: E402
from regionnet import EAST, WEST  # noqa: E402


class FakeQueue:
    def __init__(self):
        self.incoming = []
        self.verdicts = []

    def packets(self):
        while self.incoming:
            yield self.incoming.pop(0), b""

    def verdict(self, pid, verdict):
        self.verdicts.append((pid, verdict))


class WanDelayTest(unittest.TestCase):
    def test_attributes_round_trip_with_padding(self):
        data = wandelay.nlattr(1, b"abc") + wandelay.nlattr(10, b"\x01\x02\x03\x04\x05")
        self.assertEqual(len(data) % 4, 0)
        self.assertEqual(wandelay.parse_attrs(data), {1: b"abc", 10: b"\x01\x02\x03\x04\x05"})

    def test_verdict_message_layout(self):
        msg = wandelay.nfmsg(wandelay.NFQNL_MSG_VERDICT, 7,
                             [wandelay.nlattr(wandelay.NFQA_VERDICT_HDR,
                                              struct.pack("!II", wandelay.NF_ACCEPT, 42))])
        length, kind, flags = struct.unpack_from("=IHH", msg, 0)
        self.assertEqual(length, len(msg))
        self.assertEqual(kind, (wandelay.NFNL_SUBSYS_QUEUE << 8) | wandelay.NFQNL_MSG_VERDICT)
        self.assertEqual(flags, wandelay.NLM_F_REQUEST)
        self.assertEqual(struct.unpack_from("!H", msg, 18)[0], 7)  # res_id: the queue
        attrs = wandelay.parse_attrs(msg[20:])
        self.assertEqual(struct.unpack("!II", attrs[wandelay.NFQA_VERDICT_HDR]),
                         (wandelay.NF_ACCEPT, 42))

    def test_packets_are_released_in_order_after_the_delay(self):
        queue = FakeQueue()
        link = wandelay.Link(queue, 35.0, 0.0, 0.0, random.Random(1))
        queue.incoming = [1, 2]
        link.take(100.0)
        queue.incoming = [3]
        link.take(100.010)
        link.release(100.034)
        self.assertEqual(queue.verdicts, [])
        link.release(100.035)
        self.assertEqual(queue.verdicts, [(1, wandelay.NF_ACCEPT), (2, wandelay.NF_ACCEPT)])
        link.release(100.045)
        self.assertEqual(queue.verdicts[-1], (3, wandelay.NF_ACCEPT))
        self.assertEqual(link.control('{"stats": true}'),
                         {"seen": 3, "accepted": 3, "dropped": 0, "held": 0})

    def test_loss_drops_about_that_share_at_once(self):
        queue = FakeQueue()
        link = wandelay.Link(queue, 35.0, 0.0, 0.0, random.Random(7))
        self.assertEqual(link.control('{"loss": 0.3}')["loss"], 0.3)
        queue.incoming = list(range(1000))
        link.take(0.0)
        dropped = sum(1 for _, v in queue.verdicts if v == wandelay.NF_DROP)
        self.assertTrue(240 <= dropped <= 360, dropped)
        self.assertEqual(len(link.held), 1000 - dropped)
        self.assertIsNone(link.control('{"quit": true}'))


def dns_reply(qid, rcode, answers):
    """A reply to A? foo.query.consul: answers are (type, rdata) with compressed names."""
    header = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, len(answers), 0, 0)
    question = nsio.dns_query("foo.query.consul", 1, qid)[12:]
    body = b""
    for rtype, rdata in answers:
        body += b"\xc0\x0c" + struct.pack("!HHIH", rtype, 1, 0, len(rdata)) + rdata
    return header + question + body


class DnsParseTest(unittest.TestCase):
    def test_a_records_after_a_cname(self):
        cname = b"\x03bar\xc0\x0c"
        msg = dns_reply(5, 0, [(5, cname), (1, socket.inet_aton("10.79.3.101")),
                               (1, socket.inet_aton("10.79.3.102"))])
        self.assertEqual(nsio.parse_a_answer(msg), (0, ["10.79.3.101", "10.79.3.102"]))

    def test_nxdomain(self):
        self.assertEqual(nsio.parse_a_answer(dns_reply(9, 3, [])), (3, []))


class FakeBed:
    class _Region:
        def __init__(self, subnet):
            self.subnet = subnet

    def region(self, dc):
        return {WEST: self._Region("10.78.5"), EAST: self._Region("10.79.5")}[dc]


class RegionOfAnswerTest(unittest.TestCase):
    def execution(self, dc, addrs, status=200):
        nodes = [{"Node": {"Address": a}, "Service": {"Address": ""}} for a in addrs]
        body = regionbed.json.dumps({"Datacenter": dc, "Nodes": nodes})
        return nsio.Response(status, {}, body, 0.0)

    def test_http(self):
        bed = FakeBed()
        self.assertEqual(failover.region_of_http(
            self.execution(EAST, ["10.79.5.101", "10.79.5.102"]), bed), EAST)
        self.assertEqual(failover.region_of_http(
            self.execution(WEST, ["10.78.5.101"]), bed), WEST)
        # The Datacenter field and the addresses must agree.
        self.assertEqual(failover.region_of_http(
            self.execution(WEST, ["10.79.5.101"]), bed), "mixed")
        self.assertIsNone(failover.region_of_http(self.execution(WEST, []), bed))
        self.assertIsNone(failover.region_of_http(self.execution(WEST, ["x"], 500), bed))

    def test_dns(self):
        bed = FakeBed()
        self.assertEqual(failover.region_of_dns((0, ["10.79.5.101"]), bed), EAST)
        self.assertEqual(failover.region_of_dns((0, ["10.78.5.1", "10.79.5.1"]), bed),
                         "mixed")
        self.assertIsNone(failover.region_of_dns((3, []), bed))
        # 10.78.50.x is not in 10.78.5.0/24.
        self.assertEqual(failover.region_of_dns((0, ["10.78.50.1"]), bed), "mixed")


class MeasureTest(unittest.TestCase):
    def test_wan_rtt_from_coordinates(self):
        def coord(vec, height=0.0, adjustment=0.0):
            return {"Coord": {"Vec": vec, "Height": height, "Adjustment": adjustment}}
        dcs = [{"Datacenter": WEST, "Coordinates": [coord([0.0, 0.0], 0.001)]},
               {"Datacenter": EAST, "Coordinates": [coord([0.03, 0.04], 0.002, 0.001)]}]
        # |(0.03, 0.04)| = 0.05 s, + heights 0.003, + adjustments 0.001.
        self.assertAlmostEqual(regionbed.wan_rtt_ms(dcs, WEST, EAST), 54.0)
        # A negative adjusted distance falls back to the plain one.
        dcs[1]["Coordinates"] = [coord([0.03, 0.04], 0.0, -0.2)]
        self.assertAlmostEqual(regionbed.wan_rtt_ms(dcs, WEST, EAST), 51.0)
        self.assertIsNone(regionbed.wan_rtt_ms(dcs[:1], WEST, EAST))

    def test_nearest_rank_percentile(self):
        values = list(range(1, 11))
        self.assertEqual(regions.pct(values, 99), 10)
        self.assertEqual(regions.pct(values, 50), 5)
        self.assertEqual(regions.pct(list(range(1, 201)), 99), 198)

    def test_missing_feature(self):
        self.assertTrue(regionbed.missing_feature(nsio.Response(404, {}, "", 0)))
        self.assertTrue(regionbed.missing_feature(
            nsio.Response(500, {}, "No path to datacenter", 0)))
        self.assertFalse(regionbed.missing_feature(nsio.Response(500, {}, "rpc error", 0)))
        self.assertFalse(regionbed.missing_feature(nsio.Response(200, {}, "[]", 0)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
