#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dns/wire/message.h"
#include "dns/wire/name.h"

namespace pc::dns::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A 12-byte header with the given counts, then `body`.
Bytes packet(std::uint16_t qd, std::uint16_t an, std::uint16_t ns, std::uint16_t ar,
             const Bytes& body) {
  Bytes out = {0xab,
               0xcd,
               0x01,
               0x00,
               static_cast<std::uint8_t>(qd >> 8),
               static_cast<std::uint8_t>(qd),
               static_cast<std::uint8_t>(an >> 8),
               static_cast<std::uint8_t>(an),
               static_cast<std::uint8_t>(ns >> 8),
               static_cast<std::uint8_t>(ns),
               static_cast<std::uint8_t>(ar >> 8),
               static_cast<std::uint8_t>(ar)};
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes wire_name(std::string_view text) {
  auto w = name_to_wire(text);
  EXPECT_TRUE(w.has_value());
  return w.has_value() ? *w : Bytes{};
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Record rec(std::string name, std::uint16_t t, Rdata rdata, std::uint32_t ttl = 30) {
  Record r;
  r.name = std::move(name);
  r.type = t;
  r.ttl = ttl;
  r.rdata = std::move(rdata);
  return r;
}

Message sample_response() {
  Message m;
  m.header.id = 0x4242;
  m.header.qr = true;
  m.header.aa = true;
  m.header.rd = true;
  m.header.rcode = rcode::kNoError;
  m.questions.push_back({"web.service.consul.", type::kAny, kClassIn});
  m.answers.push_back(rec("web.service.consul.", type::kA, ARdata{{10, 0, 0, 1}}));
  AaaaRdata v6;
  v6.address[0] = 0x20;
  v6.address[1] = 0x01;
  v6.address[15] = 0x07;
  m.answers.push_back(rec("web.service.consul.", type::kAaaa, v6));
  m.answers.push_back(
      rec("web.service.consul.", type::kSrv, SrvRdata{1, 5, 8080, "node1.node.dc1.consul."}));
  m.answers.push_back(rec("web.service.consul.", type::kTxt, TxtRdata{{"env=prod", "", "a b"}}));
  m.answers.push_back(
      rec("1.0.0.10.in-addr.arpa.", type::kPtr, PtrRdata{"node1.node.dc1.consul."}));
  m.answers.push_back(rec("www.service.consul.", type::kCname, CnameRdata{"web.service.consul."}));
  m.authority.push_back(rec("consul.", type::kNs, NsRdata{"ns.consul."}));
  m.authority.push_back(rec("consul.", type::kSoa,
                            SoaRdata{"ns.consul.", "hostmaster.consul.", 7, 3600, 600, 86400, 0}));
  m.additional.push_back(rec("node1.node.dc1.consul.", type::kA, ARdata{{10, 0, 0, 1}}));
  m.additional.push_back(rec("x.consul.", 65280, RawRdata{{1, 2, 3}}));
  m.edns = Edns{1232, 0, 0, true, {{10, {1, 2, 3, 4, 5, 6, 7, 8}}}};
  return m;
}

TEST(DnsName, ParsesAndFormatsWithEscapes) {
  auto labels = parse_name("a\\.b.c\\\\d.\\255x.");
  ASSERT_TRUE(labels.has_value()) << labels.error().message;
  ASSERT_EQ(labels->size(), 3u);
  EXPECT_EQ((*labels)[0], "a.b");
  EXPECT_EQ((*labels)[1], "c\\d");
  EXPECT_EQ((*labels)[2], std::string("\xff") + "x");
  EXPECT_EQ(format_name(*labels), "a\\.b.c\\\\d.\\255x.");
  EXPECT_EQ(format_name({}), ".");
  EXPECT_TRUE(parse_name(".")->empty());
  EXPECT_EQ(format_name(*parse_name("web.service.consul")), "web.service.consul.");
}

TEST(DnsName, RejectsBadNames) {
  EXPECT_FALSE(parse_name("").has_value());
  EXPECT_FALSE(parse_name("a..b.").has_value());
  EXPECT_FALSE(parse_name("a\\").has_value());
  EXPECT_FALSE(parse_name("a\\25").has_value());
  EXPECT_FALSE(parse_name("a\\256.").has_value());
  EXPECT_FALSE(parse_name(std::string(64, 'a') + ".").has_value());
  EXPECT_TRUE(parse_name(std::string(63, 'a') + ".").has_value());
  // 4 labels of 63 bytes: 4 * 64 + 1 = 257 wire bytes.
  std::string label(63, 'a');
  EXPECT_FALSE(parse_name(label + "." + label + "." + label + "." + label + ".").has_value());
  // 3 * 64 + 62 + 1 = 255: the longest name.
  EXPECT_TRUE(
      parse_name(label + "." + label + "." + label + "." + std::string(61, 'b') + ".").has_value());
}

TEST(DnsName, WireConversionAndCaseInsensitiveEquality) {
  Bytes expected = {3, 'w', 'e', 'b', 6, 'c', 'o', 'n', 's', 'u', 'l', 0};
  EXPECT_EQ(wire_name("web.consul."), expected);
  auto text = name_from_wire(expected);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "web.consul.");
  EXPECT_FALSE(name_from_wire(Bytes{3, 'w', 'e'}).has_value());
  EXPECT_FALSE(name_from_wire(Bytes{0xc0, 12}).has_value());
  EXPECT_TRUE(names_equal("WEB.Service.consul.", "web.service.CONSUL"));
  EXPECT_FALSE(names_equal("web.service.consul.", "web.service.consul.io."));
}

TEST(DnsWire, RoundTripsEveryType) {
  Message m = sample_response();
  auto encoded = encode(m, kMaxMessageSize);
  ASSERT_TRUE(encoded.has_value()) << encoded.error().message;
  EXPECT_FALSE(encoded->truncated);
  auto decoded = decode(encoded->bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(*decoded, m);
  // And once more: our own output is a fixed point.
  auto again = encode(*decoded, kMaxMessageSize);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->bytes, encoded->bytes);
}

TEST(DnsWire, RoundTripsHeaderFlags) {
  Message m;
  m.header = Header{0xffff, true, 2, true, true, true, true, true, true, rcode::kRefused};
  auto encoded = encode(m, kMaxUdpSize);
  ASSERT_TRUE(encoded.has_value());
  ASSERT_EQ(encoded->bytes.size(), kHeaderSize);
  auto decoded = decode(encoded->bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->header, m.header);
}

TEST(DnsWire, CompressionShrinksRepeatedNamesCaseInsensitively) {
  Message m;
  m.questions.push_back({"WEB.Service.Consul.", type::kA, kClassIn});
  for (int i = 0; i < 5; ++i) {
    m.answers.push_back(
        rec("web.service.consul.", type::kA, ARdata{{10, 0, 0, static_cast<std::uint8_t>(i)}}));
  }
  auto encoded = encode(m, kMaxMessageSize);
  ASSERT_TRUE(encoded.has_value());
  const std::size_t name = wire_name("web.service.consul.").size();  // 20
  // Header, one full question, then each answer name is a 2-byte pointer.
  EXPECT_EQ(encoded->bytes.size(), kHeaderSize + name + 4 + 5 * (2 + 10 + 4));
  std::size_t uncompressed = kHeaderSize + name + 4 + 5 * (name + 10 + 4);
  EXPECT_LT(encoded->bytes.size(), uncompressed);
  auto decoded = decode(encoded->bytes);
  ASSERT_TRUE(decoded.has_value());
  // Names keep the case they were written with.
  EXPECT_EQ(decoded->questions[0].name, "WEB.Service.Consul.");
  EXPECT_EQ(decoded->answers[4].name, "WEB.Service.Consul.");

  // A shared suffix: "db.service.consul." becomes "\2db" plus a pointer.
  Message n;
  n.questions.push_back({"web.service.consul.", type::kA, kClassIn});
  n.questions.push_back({"db.service.consul.", type::kA, kClassIn});
  auto e2 = encode(n, kMaxMessageSize);
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ(e2->bytes.size(), kHeaderSize + name + 4 + 3 + 2 + 4);
}

TEST(DnsWire, SrvTargetIsNotCompressed) {
  Message m;
  m.answers.push_back(rec("node1.consul.", type::kA, ARdata{{1, 2, 3, 4}}));
  m.answers.push_back(rec("web.consul.", type::kSrv, SrvRdata{1, 1, 80, "node1.consul."}));
  auto encoded = encode(m, kMaxMessageSize);
  ASSERT_TRUE(encoded.has_value());
  const Bytes& b = encoded->bytes;
  // The SRV rdata ends with the full target name.
  Bytes target = wire_name("node1.consul.");
  ASSERT_GE(b.size(), target.size());
  EXPECT_TRUE(std::equal(target.begin(), target.end(), b.end() - target.size()));
}

TEST(DnsWire, TruncationDropsAnswersSetsTcAndStaysDecodable) {
  Message m;
  m.header.qr = true;
  m.questions.push_back({"web.service.consul.", type::kA, kClassIn});
  for (int i = 0; i < 100; ++i) {
    m.answers.push_back(
        rec("web.service.consul.", type::kA, ARdata{{10, 0, 0, static_cast<std::uint8_t>(i)}}));
  }
  m.additional.push_back(rec("extra.consul.", type::kTxt, TxtRdata{{"x"}}));
  m.edns = Edns{};
  auto encoded = encode(m, kMaxUdpSize);
  ASSERT_TRUE(encoded.has_value());
  EXPECT_TRUE(encoded->truncated);
  EXPECT_LE(encoded->bytes.size(), kMaxUdpSize);
  auto decoded = decode(encoded->bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_TRUE(decoded->header.tc);
  EXPECT_TRUE(decoded->additional.empty());
  EXPECT_TRUE(decoded->edns.has_value());
  EXPECT_EQ(decoded->questions, m.questions);
  // 512 - 12 - 24 - 11 (OPT) = 465 bytes for 16-byte answers: 29 of them.
  EXPECT_EQ(decoded->answers.size(), 29u);
  EXPECT_EQ(decoded->answers.back(), m.answers[28]);
}

TEST(DnsWire, DroppingOnlyAdditionalLeavesTcClear) {
  Message m;
  m.answers.push_back(rec("web.service.consul.", type::kA, ARdata{{10, 0, 0, 1}}));
  for (int i = 0; i < 40; ++i) {
    m.additional.push_back(
        rec("web.service.consul.", type::kTxt, TxtRdata{{std::string(20, 'x')}}));
  }
  auto encoded = encode(m, kMaxUdpSize);
  ASSERT_TRUE(encoded.has_value());
  EXPECT_TRUE(encoded->truncated);
  auto decoded = decode(encoded->bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_FALSE(decoded->header.tc);
  EXPECT_EQ(decoded->answers.size(), 1u);
  EXPECT_LT(decoded->additional.size(), 40u);
  EXPECT_GT(decoded->additional.size(), 0u);
}

TEST(DnsWire, TinyLimitKeepsAValidHeader) {
  Message m = sample_response();
  auto encoded = encode(m, 20);
  ASSERT_TRUE(encoded.has_value());
  auto decoded = decode(encoded->bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(decoded->header.tc);
  EXPECT_TRUE(decoded->questions.empty());
  EXPECT_EQ(decoded->header.id, m.header.id);
}

TEST(DnsWire, EdnsOptRoundTrip) {
  Message m;
  m.header.qr = true;
  m.header.rcode = 0;
  m.edns = Edns{4096, 1, 0, true, {{8, {0, 1, 24, 0, 10, 0, 0}}, {10, {}}}};
  auto encoded = encode(m, kMaxUdpSize);
  ASSERT_TRUE(encoded.has_value());
  // Header, then root name, type 41, class 4096, ttl 0x01008000, rdlength 15.
  Bytes opt = {0, 0, 41, 0x10, 0x00, 0x01, 0x00, 0x80, 0x00, 0, 15};
  ASSERT_GE(encoded->bytes.size(), kHeaderSize + opt.size());
  EXPECT_EQ(Bytes(encoded->bytes.begin() + kHeaderSize,
                  encoded->bytes.begin() + kHeaderSize + opt.size()),
            opt);
  auto decoded = decode(encoded->bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->edns, m.edns);
  EXPECT_TRUE(decoded->additional.empty());
}

// What `dig @127.0.0.1 -p 8600 web.service.consul. A` sends (BIND 9.18): RD and AD set, one
// question, an OPT record with a 1232-byte payload and a client COOKIE option.
TEST(DnsWire, DecodesADigQuery) {
  const Bytes query = {
      0x5a, 0x3c, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // header
      0x03, 'w',  'e',  'b',  0x07, 's',  'e',  'r',  'v',  'i',  'c',  'e',   // name
      0x06, 'c',  'o',  'n',  's',  'u',  'l',  0x00,                          //
      0x00, 0x01, 0x00, 0x01,                                                  // A IN
      0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c,        // OPT
      0x00, 0x0a, 0x00, 0x08, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  // COOKIE
  };
  auto m = decode(query);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->header.id, 0x5a3c);
  EXPECT_FALSE(m->header.qr);
  EXPECT_EQ(m->header.opcode, 0);
  EXPECT_TRUE(m->header.rd);
  EXPECT_TRUE(m->header.ad);
  EXPECT_FALSE(m->header.tc);
  ASSERT_EQ(m->questions.size(), 1u);
  EXPECT_EQ(m->questions[0].name, "web.service.consul.");
  EXPECT_EQ(m->questions[0].qtype, type::kA);
  EXPECT_EQ(m->questions[0].qclass, kClassIn);
  EXPECT_TRUE(m->answers.empty());
  EXPECT_TRUE(m->additional.empty());
  ASSERT_TRUE(m->edns.has_value());
  EXPECT_EQ(m->edns->udp_payload_size, 1232);
  EXPECT_EQ(m->edns->version, 0);
  EXPECT_FALSE(m->edns->dnssec_ok);
  ASSERT_EQ(m->edns->options.size(), 1u);
  EXPECT_EQ(m->edns->options[0].code, 10);
  EXPECT_EQ(m->edns->options[0].data.size(), 8u);
  // Re-encoding gives back the same bytes.
  auto encoded = encode(*m, kMaxUdpSize);
  ASSERT_TRUE(encoded.has_value());
  EXPECT_EQ(encoded->bytes, query);
}

void expect_rejected(const Bytes& bytes, std::string_view why) {
  auto m = decode(bytes);
  ASSERT_FALSE(m.has_value()) << why;
  EXPECT_EQ(m.error().code, core::Code::kInvalidArgument) << why;
  EXPECT_FALSE(m.error().message.empty());
}

const Bytes kTypeA = {0x00, 0x01, 0x00, 0x01};

TEST(DnsWire, RejectsHostileInput) {
  expect_rejected({}, "empty");
  expect_rejected({0x12, 0x34, 0x01, 0x00, 0x00}, "truncated header");
  // Pointer to itself at offset 12.
  expect_rejected(packet(1, 0, 0, 0, concat({{0xc0, 0x0c}, kTypeA})), "self pointer");
  // Forward pointer: 12 points to 16.
  expect_rejected(packet(1, 0, 0, 0, concat({{0xc0, 0x10, 0, 1}, {0, 0, 1, 0, 1}})),
                  "forward pointer");
  // Loop: a label at 12 followed by a pointer back to 12.
  expect_rejected(packet(1, 0, 0, 0, concat({{1, 'a', 0xc0, 0x0c}, kTypeA})), "pointer loop");
  // A loop across two names needs one pointer forwards: the first name's end points at the
  // second name, which points back at the first.
  expect_rejected(
      packet(2, 0, 0, 0, concat({{1, 'a', 0xc0, 0x14}, kTypeA, {1, 'b', 0xc0, 0x0c}, kTypeA})),
      "two-name pointer loop");
  // Pointer out of bounds.
  expect_rejected(packet(1, 0, 0, 0, concat({{0xff, 0xff}, kTypeA})), "out-of-bounds pointer");
  // Pointer into the header.
  expect_rejected(packet(1, 0, 0, 0, concat({{0xc0, 0x02}, kTypeA})), "pointer into header");
  // Label of 64 bytes (0x40 is also a reserved label type).
  Bytes label64 = {64};
  label64.insert(label64.end(), 64, 'a');
  label64.push_back(0);
  expect_rejected(packet(1, 0, 0, 0, concat({label64, kTypeA})), "label 64");
  // Name of 256 wire bytes: 4 * (1 + 62) + 3 + 1.
  Bytes long_name;
  for (int i = 0; i < 4; ++i) {
    long_name.push_back(62);
    long_name.insert(long_name.end(), 62, 'a');
  }
  long_name.push_back(2);
  long_name.insert(long_name.end(), 2, 'b');
  long_name.push_back(0);
  ASSERT_EQ(long_name.size(), 256u);
  expect_rejected(packet(1, 0, 0, 0, concat({long_name, kTypeA})), "name of 256");
  // A long name assembled through a pointer also counts.
  Bytes half;
  for (int i = 0; i < 2; ++i) {
    half.push_back(62);
    half.insert(half.end(), 62, 'a');
  }
  Bytes first = concat({half, {0}});
  Bytes second = concat({half, {2, 'b', 'b', 0xc0, 0x0c}});
  expect_rejected(packet(2, 0, 0, 0, concat({first, kTypeA, second, kTypeA})),
                  "name of 256 through a pointer");
  // Huge counts.
  expect_rejected(packet(0xffff, 0, 0, 0, {}), "huge question count");
  expect_rejected(packet(0, 0xffff, 0xffff, 0xffff, {}), "huge record counts");
  expect_rejected(packet(0, 3, 0, 0, Bytes(20, 0)), "more records than bytes");
  // Truncated question and record.
  expect_rejected(packet(1, 0, 0, 0, concat({wire_name("a."), {0, 1, 0}})), "truncated question");
  expect_rejected(packet(0, 1, 0, 0, concat({wire_name("a."), {0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1}})),
                  "truncated rdata");
  // rdlength mismatch for fixed-size types.
  expect_rejected(
      packet(0, 1, 0, 0, concat({wire_name("a."), {0, 1, 0, 1, 0, 0, 0, 5, 0, 5, 1, 2, 3, 4, 5}})),
      "A with 5 bytes");
  expect_rejected(
      packet(0, 1, 0, 0, concat({wire_name("a."), {0, 28, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4}})),
      "AAAA with 4 bytes");
  // A CNAME whose name runs past its rdlength.
  expect_rejected(
      packet(0, 1, 0, 0,
             concat({wire_name("a."), {0, 5, 0, 1, 0, 0, 0, 5, 0, 2}, wire_name("b.c.")})),
      "CNAME past its rdata");
  // A TXT string longer than its rdata.
  expect_rejected(
      packet(0, 1, 0, 0, concat({wire_name("a."), {0, 16, 0, 1, 0, 0, 0, 5, 0, 2, 5, 'x'}})),
      "TXT past its rdata");
  // Two OPT records; an OPT record in the answer section.
  Bytes opt = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
  expect_rejected(packet(0, 0, 0, 2, concat({opt, opt})), "two OPT");
  expect_rejected(packet(0, 1, 0, 0, opt), "OPT in answers");
  // Trailing garbage.
  expect_rejected(packet(0, 0, 0, 0, {0}), "trailing byte");
}

TEST(DnsWire, EncodeRejectsBadInput) {
  Message m;
  m.answers.push_back(rec("a..b.", type::kA, ARdata{}));
  EXPECT_FALSE(encode(m, kMaxUdpSize).has_value());
  m.answers[0] = rec("a.", type::kAaaa, ARdata{});
  EXPECT_FALSE(encode(m, kMaxUdpSize).has_value());
  m.answers[0] = rec("a.", type::kTxt, TxtRdata{{std::string(256, 'x')}});
  EXPECT_FALSE(encode(m, kMaxUdpSize).has_value());
}

TEST(DnsWire, UnknownTypesAndClassesStayRaw) {
  Message m;
  m.answers.push_back(rec("a.", 65280, RawRdata{{0xc0, 0x0c, 9}}));
  Record chaos = rec("version.bind.", type::kTxt, RawRdata{{3, 'x', 'y', 'z'}});
  chaos.rclass = 3;
  m.answers.push_back(chaos);
  auto encoded = encode(m, kMaxUdpSize);
  ASSERT_TRUE(encoded.has_value());
  auto decoded = decode(encoded->bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, m);
}

}  // namespace
}  // namespace pc::dns::wire
