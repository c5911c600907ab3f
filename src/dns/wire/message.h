#pragma once
// DNS messages (RFC 1035 4.1) as plain structs, and the wire codec for them.
//
// decode() takes bytes from the network and never trusts them: every read is bounds-checked,
// compression pointers must point strictly backwards (each one before the previous target),
// and each section holds at most kMaxRecordsPerSection records. Any problem is
// core::Code::kInvalidArgument with a short reason; the server answers FORMERR.
//
// encode() writes a message with name compression (RFC 1035 4.1.4, suffixes matched
// ASCII-case-insensitively) and fits it into max_size bytes by dropping whole records.
//
// EDNS0 (RFC 6891): the OPT pseudo-record is not kept among the additional records; decode()
// moves it into Message::edns and encode() writes it as the last additional record.
//
// Pure: only core/ and the standard library.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/result.h"
#include "dns/wire/name.h"

namespace pc::dns::wire {

// Bounds on what one decoded message may hold, so a hostile packet cannot make us allocate
// without limit: per section, and EDNS options in one OPT record.
inline constexpr std::size_t kMaxRecordsPerSection = 1024;
inline constexpr std::size_t kMaxEdnsOptions = 64;
inline constexpr std::size_t kHeaderSize = 12;
// Classic UDP limit without EDNS0 (RFC 1035 4.2.1).
inline constexpr std::size_t kMaxUdpSize = 512;
inline constexpr std::size_t kMaxMessageSize = 65535;

// Resource record types (RFC 1035 3.2.2, RFC 3596, RFC 2782, RFC 6891).
namespace type {
inline constexpr std::uint16_t kA = 1;
inline constexpr std::uint16_t kNs = 2;
inline constexpr std::uint16_t kCname = 5;
inline constexpr std::uint16_t kSoa = 6;
inline constexpr std::uint16_t kPtr = 12;
inline constexpr std::uint16_t kTxt = 16;
inline constexpr std::uint16_t kAaaa = 28;
inline constexpr std::uint16_t kSrv = 33;
inline constexpr std::uint16_t kOpt = 41;
inline constexpr std::uint16_t kAny = 255;
}  // namespace type

inline constexpr std::uint16_t kClassIn = 1;

namespace rcode {
inline constexpr std::uint8_t kNoError = 0;
inline constexpr std::uint8_t kFormErr = 1;
inline constexpr std::uint8_t kServFail = 2;
inline constexpr std::uint8_t kNxDomain = 3;
inline constexpr std::uint8_t kNotImp = 4;
inline constexpr std::uint8_t kRefused = 5;
}  // namespace rcode

struct Header {
  std::uint16_t id = 0;
  bool qr = false;          // response
  std::uint8_t opcode = 0;  // 4 bits
  bool aa = false;          // authoritative answer
  bool tc = false;          // truncated
  bool rd = false;          // recursion desired
  bool ra = false;          // recursion available
  bool ad = false;          // authentic data (RFC 4035)
  bool cd = false;          // checking disabled (RFC 4035)
  std::uint8_t rcode = 0;   // low 4 bits; the high 8 live in Edns::extended_rcode
  bool operator==(const Header&) const = default;
};

struct Question {
  std::string name;  // text form, see name.h
  std::uint16_t qtype = type::kA;
  std::uint16_t qclass = kClassIn;
  bool operator==(const Question&) const = default;
};

struct ARdata {
  std::array<std::uint8_t, 4> address{};
  bool operator==(const ARdata&) const = default;
};
struct AaaaRdata {
  std::array<std::uint8_t, 16> address{};
  bool operator==(const AaaaRdata&) const = default;
};
struct NsRdata {
  std::string name;
  bool operator==(const NsRdata&) const = default;
};
struct CnameRdata {
  std::string name;
  bool operator==(const CnameRdata&) const = default;
};
struct PtrRdata {
  std::string name;
  bool operator==(const PtrRdata&) const = default;
};
struct SoaRdata {
  std::string mname;
  std::string rname;
  std::uint32_t serial = 0;
  std::uint32_t refresh = 0;
  std::uint32_t retry = 0;
  std::uint32_t expire = 0;
  std::uint32_t minimum = 0;
  bool operator==(const SoaRdata&) const = default;
};
struct TxtRdata {
  std::vector<std::string> strings;  // each at most 255 bytes
  bool operator==(const TxtRdata&) const = default;
};
struct SrvRdata {
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  std::string target;  // never compressed on the wire (RFC 2782)
  bool operator==(const SrvRdata&) const = default;
};
// Any other type, or a known type outside class IN: the rdata bytes as they came.
struct RawRdata {
  std::vector<std::uint8_t> bytes;
  bool operator==(const RawRdata&) const = default;
};

using Rdata = std::variant<RawRdata, ARdata, AaaaRdata, NsRdata, CnameRdata, PtrRdata, SoaRdata,
                           TxtRdata, SrvRdata>;

struct Record {
  std::string name;
  std::uint16_t type = type::kA;  // must agree with the rdata alternative unless it is raw
  std::uint16_t rclass = kClassIn;
  std::uint32_t ttl = 0;
  Rdata rdata;
  bool operator==(const Record&) const = default;
};

struct EdnsOption {
  std::uint16_t code = 0;
  std::vector<std::uint8_t> data;
  bool operator==(const EdnsOption&) const = default;
};

// The OPT pseudo-record (RFC 6891 6.1.3).
struct Edns {
  std::uint16_t udp_payload_size = 4096;
  std::uint8_t extended_rcode = 0;  // upper 8 bits of the 12-bit rcode
  std::uint8_t version = 0;
  bool dnssec_ok = false;  // DO bit
  std::vector<EdnsOption> options;
  bool operator==(const Edns&) const = default;
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authority;
  std::vector<Record> additional;  // never holds the OPT record: see edns
  std::optional<Edns> edns;
  bool operator==(const Message&) const = default;
};

core::Result<Message> decode(std::span<const std::uint8_t> bytes);

struct EncodeResult {
  std::vector<std::uint8_t> bytes;
  // Records were dropped to fit max_size. TC is set in the written header when an answer or
  // authority record was dropped; dropping only additional records leaves TC clear
  // (RFC 2181 9).
  bool truncated = false;
  bool operator==(const EncodeResult&) const = default;
};

// Writes `message` in at most max(max_size, kHeaderSize) bytes. Records are dropped whole,
// from the end of additional, then authority, then answers; the OPT record is kept while the
// questions and it fit, and the questions while they fit. The result always decodes.
// kInvalidArgument when the message cannot be written at all: a bad name, a TXT string over
// 255 bytes, rdata over 65535 bytes, an rdata alternative that disagrees with its type.
core::Result<EncodeResult> encode(const Message& message, std::size_t max_size);

}  // namespace pc::dns::wire
