// Snapshot encoding and decoding (docs/formats/snapshot.md): a header, one zstd frame of
// length-delimited SnapshotRecords, a trailer with a CRC-32C over everything before it.
//
// Writing walks the pinned Version's tables in key order and streams records through zstd
// into the sink, holding at most one chunk of each in memory. Reading checks the framing and
// checksum first (cheap, and most damage stops there), then decompresses incrementally,
// never holding more than one record plus one chunk of decompressed bytes, and rebuilds the
// tables and, from them, the secondary indexes. A decoded state is validated against the
// invariants apply keeps (state/detail/version.h) before anyone can restore it.
#include "state/snapshot_io.h"

#include "state/row_proto.h"

#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/crc32c.h"
#include "core/strings.h"
#include "proto/snapshot.pb.h"
#include "state/acl_proto.h"
#include "state/detail/coordinates.h"
#include "state/detail/version.h"
#include "state/query_proto.h"

namespace pc::state {
namespace {

using core::Code;
using core::make_error;
using Body = proto::SnapshotRecord::BodyCase;

// ---- Little-endian integers and varints ----

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}
std::uint32_t load_u32(std::string_view b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(b[at + i]);
  return v;
}
std::uint64_t load_u64(std::string_view b, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(b[at + i]);
  return v;
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

enum class Varint { kOk, kIncomplete, kBad };

// Decodes the varint at the start of `b` into `value` and its length into `size`.
Varint read_varint(std::string_view b, std::uint64_t& value, std::size_t& size) {
  value = 0;
  for (std::size_t i = 0; i < b.size() && i < 10; ++i) {
    const auto byte = static_cast<std::uint8_t>(b[i]);
    if (i == 9 && byte > 1) return Varint::kBad;  // more than 64 bits
    value |= static_cast<std::uint64_t>(byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) {
      size = i + 1;
      return Varint::kOk;
    }
  }
  return b.size() >= 10 ? Varint::kBad : Varint::kIncomplete;
}

// A key or name for an error message: quoted, since it may hold any bytes, and cut short.
std::string quote(std::string_view s) {
  constexpr std::size_t kShown = 64;
  return s.size() <= kShown ? core::go_quote(s) : core::go_quote(s.substr(0, kShown)) + "...";
}

core::Error corrupt(std::string message) {
  return make_error(Code::kCorruption, std::move(message));
}

std::string_view table_name(Table t) {
  switch (t) {
    case Table::kKvs: return "kvs";
    case Table::kTombstones: return "tombstones";
    case Table::kSessions: return "sessions";
    case Table::kNodes: return "nodes";
    case Table::kServices: return "services";
    case Table::kChecks: return "checks";
    case Table::kCoordinates: return "coordinates";
    case Table::kAclTokens: return "acl_tokens";
    case Table::kAclPolicies: return "acl_policies";
    case Table::kAclRoles: return "acl_roles";
    case Table::kPreparedQueries: return "prepared_queries";
  }
  return "?";
}

std::string_view record_name(Body body) {
  switch (body) {
    case proto::SnapshotRecord::kMeta: return "meta";
    case proto::SnapshotRecord::kKv: return "kv";
    case proto::SnapshotRecord::kTombstone: return "tombstone";
    case proto::SnapshotRecord::kSession: return "session";
    case proto::SnapshotRecord::kNode: return "node";
    case proto::SnapshotRecord::kService: return "service";
    case proto::SnapshotRecord::kCheck: return "check";
    case proto::SnapshotRecord::kServiceIndex: return "service_index";
    case proto::SnapshotRecord::kLockDelay: return "lock_delay";
    case proto::SnapshotRecord::kCoordinate: return "coordinate";
    case proto::SnapshotRecord::kEnd: return "end";
    case proto::SnapshotRecord::kAclToken: return "acl_token";
    case proto::SnapshotRecord::kAclPolicy: return "acl_policy";
    case proto::SnapshotRecord::kAclRole: return "acl_role";
    case proto::SnapshotRecord::kPreparedQuery: return "prepared_query";
    case proto::SnapshotRecord::BODY_NOT_SET: break;
  }
  return "unknown";
}

const Version& version_of(const Snapshot& snap) {
  static const Version kEmpty;
  const auto& v = VersionAccess::of(snap);
  return v ? *v : kEmpty;
}

// ---- Rows to records ----

void fill(proto::KvEntry& m, const DirEntry& e) {
  m.set_key(e.key);
  m.set_value(e.value);
  m.set_flags(e.flags);
  m.set_session(e.session);
  m.set_lock_index(e.lock_index);
  m.set_create_index(e.create_index);
  m.set_modify_index(e.modify_index);
}

void fill(proto::CoordinateRow& m, const CoordinateRow& c) {
  auto* out = m.mutable_coordinate();
  out->set_node(c.node);
  out->set_segment(c.segment);
  out->mutable_vec()->Assign(c.vec.begin(), c.vec.end());
  out->set_error(c.error);
  out->set_adjustment(c.adjustment);
  out->set_height(c.height);
  m.set_modify_index(c.modify_index);
}

void fill(proto::SessionRow& m, const Session& s) {
  auto* out = m.mutable_session();
  out->set_id(s.id);
  out->set_name(s.name);
  out->set_node(s.node);
  out->set_lock_delay_ns(s.lock_delay_ns);
  out->set_behavior(s.behavior);
  out->set_ttl(s.ttl);
  for (const auto& c : s.node_checks) out->add_node_checks(c);
  for (const auto& c : s.service_checks) {
    auto* ref = out->add_service_checks();
    ref->set_id(c.id);
    ref->set_namespace_(c.ns);
  }
  m.set_create_index(s.create_index);
  m.set_modify_index(s.modify_index);
}

void fill(proto::AclTokenRow& m, const AclToken& t) {
  to_proto(t, m.mutable_token());
  m.set_create_index(t.create_index);
  m.set_modify_index(t.modify_index);
}
void fill(proto::AclPolicyRow& m, const AclPolicy& p) {
  to_proto(p, m.mutable_policy());
  m.set_create_index(p.create_index);
  m.set_modify_index(p.modify_index);
}
void fill(proto::AclRoleRow& m, const AclRole& r) {
  to_proto(r, m.mutable_role());
  m.set_create_index(r.create_index);
  m.set_modify_index(r.modify_index);
}

void fill(proto::PreparedQueryRow& m, const PreparedQuery& q) {
  to_proto(q, m.mutable_query());
  m.set_create_index(q.create_index);
  m.set_modify_index(q.modify_index);
}

using state::fill;

// ---- Writing ----

// Encodes records, compresses them into the sink and checksums what it emits. The first error
// (from zstd or the sink) sticks: later calls do nothing and finish() returns it.
class SnapshotWriter {
 public:
  SnapshotWriter(const SnapshotSink& sink, const SnapshotWriteOptions& options)
      : sink_(sink), options_(options) {}

  bool failed() const { return !status_; }
  std::uint64_t records() const { return records_; }

  void begin(std::uint64_t applied_index) {
    cctx_.reset(ZSTD_createCCtx());
    if (!cctx_) {
      fail(make_error(Code::kInternal, "zstd: cannot create a compression context"));
      return;
    }
    // Levels above 19 ("ultra") use windows up to 2^27, which readers refuse.
    if (options_.zstd_level > kZstdLevelMax) {
      fail(make_error(Code::kInvalidArgument,
                      fmt::format("zstd level {} is above {}: its window is larger than readers "
                                  "accept",
                                  options_.zstd_level, kZstdLevelMax)));
      return;
    }
    const std::size_t r =
        ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel, options_.zstd_level);
    if (ZSTD_isError(r)) {
      fail(make_error(Code::kInvalidArgument,
                      fmt::format("zstd level {}: {}", options_.zstd_level, ZSTD_getErrorName(r))));
      return;
    }
    out_.resize(ZSTD_CStreamOutSize());
    std::string header(kSnapshotMagic);
    put_u32(header, kSnapshotFormatVersion);
    put_u32(header, 0);  // reserved
    put_u64(header, applied_index);
    emit(header);
  }

  // Appends one SnapshotRecord whose `field` member is `message`. The wrapper is encoded here
  // (tag, length, message) rather than by building a SnapshotRecord, which would allocate and
  // copy every row once more.
  void add(int field, const google::protobuf::MessageLite& message) {
    if (failed()) return;
    const std::size_t size = message.ByteSizeLong();
    const auto tag = static_cast<std::uint32_t>(field) << 3 | 2;  // wire type 2: length-delimited
    const std::size_t record_size = varint_size(tag) + varint_size(size) + size;
    // A row the reader would refuse must not make a snapshot nobody can restore.
    if (record_size > SnapshotLimits{}.record_size_max) {
      fail(make_error(Code::kTooLarge,
                      fmt::format("record {} is {} bytes, above the {} bytes a record may be",
                                  records_, record_size, SnapshotLimits{}.record_size_max)));
      return;
    }
    put_varint(pending_, record_size);
    put_varint(pending_, tag);
    put_varint(pending_, size);
    const std::size_t at = pending_.size();
    pending_.resize(at + size);
    message.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(&pending_[at]));
    ++records_;
    if (pending_.size() >= kPendingMax) compress(ZSTD_e_continue);
  }

  core::Status finish() {
    compress(ZSTD_e_end);
    if (failed()) return status_;
    std::string trailer;
    put_u64(trailer, body_bytes_);
    crc_ = core::crc32c_extend(crc_, trailer);
    put_u32(trailer, crc_);
    trailer.append(kSnapshotEndMagic);
    if (auto st = sink_(trailer); !st) fail(st.error());
    return status_;
  }

 private:
  // Records are compressed in batches of this size: large enough that zstd sees whole
  // blocks, small enough that a snapshot never sits in memory.
  static constexpr std::size_t kPendingMax = 128 << 10;
  // The highest level whose window (2^23 at level 19) stays within kSnapshotWindowLogMax.
  static constexpr int kZstdLevelMax = 19;

  void fail(core::Error error) {
    if (status_) status_ = std::move(error);
  }

  void emit(std::string_view bytes) {
    if (failed()) return;
    crc_ = core::crc32c_extend(crc_, bytes);
    if (auto st = sink_(bytes); !st) fail(st.error());
  }

  // Feeds pending_ to zstd and emits what comes out; `mode` ZSTD_e_end also ends the frame.
  void compress(ZSTD_EndDirective mode) {
    if (failed()) return;
    ZSTD_inBuffer in{pending_.data(), pending_.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      const std::size_t remaining = ZSTD_compressStream2(cctx_.get(), &out, &in, mode);
      if (ZSTD_isError(remaining)) {
        fail(make_error(Code::kInternal,
                        fmt::format("zstd compression: {}", ZSTD_getErrorName(remaining))));
        return;
      }
      body_bytes_ += out.pos;
      if (out.pos > 0) emit(std::string_view(out_.data(), out.pos));
      if (failed()) return;
      // zstd's streaming contract: ZSTD_e_continue is done once the input is consumed;
      // ZSTD_e_end once nothing remains to flush.
      if (mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size) break;
    }
    pending_.clear();
  }

  const SnapshotSink& sink_;
  const SnapshotWriteOptions options_;
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx_{nullptr, &ZSTD_freeCCtx};
  std::string pending_;  // encoded records not yet compressed
  std::string out_;      // zstd's output buffer
  std::uint32_t crc_ = 0;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t records_ = 0;
  core::Status status_;
};

// One record per row of `table`, in key order. `msg` is reused so its buffers are too.
template <class V, class Msg>
void add_table(SnapshotWriter& w, const PMap<V>& table, int field, Msg& msg) {
  for (const auto& e : table) {
    if (w.failed()) return;
    msg.Clear();
    fill(msg, e.value);
    w.add(field, msg);
  }
}

// ---- Records to rows ----

using state::row_from;

DirEntry row_from(proto::KvEntry& m) {
  return DirEntry{take_field(m.mutable_key()),
                  take_field(m.mutable_value()),
                  m.flags(),
                  take_field(m.mutable_session()),
                  m.lock_index(),
                  m.create_index(),
                  m.modify_index()};
}

CoordinateRow row_from(proto::CoordinateRow& m) {
  proto::CoordinateUpdate& in = *m.mutable_coordinate();
  CoordinateRow c;
  c.node = take_field(in.mutable_node());
  c.segment = take_field(in.mutable_segment());
  c.vec.assign(in.vec().begin(), in.vec().end());
  c.error = in.error();
  c.adjustment = in.adjustment();
  c.height = in.height();
  c.modify_index = m.modify_index();
  return c;
}

Session row_from(proto::SessionRow& m) {
  proto::Session& in = *m.mutable_session();
  Session s;
  s.id = take_field(in.mutable_id());
  s.name = take_field(in.mutable_name());
  s.node = take_field(in.mutable_node());
  s.lock_delay_ns = in.lock_delay_ns();
  s.behavior = take_field(in.mutable_behavior());
  s.ttl = take_field(in.mutable_ttl());
  s.node_checks = take_list(in.mutable_node_checks());
  for (auto& c : *in.mutable_service_checks()) {
    s.service_checks.push_back({take_field(c.mutable_id()), take_field(c.mutable_namespace_())});
  }
  s.create_index = m.create_index();
  s.modify_index = m.modify_index();
  return s;
}

// ---- Reading ----

struct Frame {
  SnapshotHeader header;
  std::string_view body;  // the zstd frame
};

// Checks everything outside the compressed body, cheapest test first, so that each kind of
// damage gets the message that names it.
core::Result<Frame> parse_frame(std::string_view bytes) {
  const std::size_t size = bytes.size();
  const std::size_t magic_checked = std::min(size, kSnapshotMagic.size());
  if (bytes.substr(0, magic_checked) != kSnapshotMagic.substr(0, magic_checked)) {
    return corrupt("not a snapshot: bad magic bytes");
  }
  if (size < kSnapshotHeaderSize + kSnapshotTrailerSize) {
    return corrupt(fmt::format("snapshot truncated: {} bytes, the smallest snapshot has {}", size,
                               kSnapshotHeaderSize + kSnapshotTrailerSize));
  }
  Frame f;
  f.header.format_version = load_u32(bytes, 8);
  if (f.header.format_version < kSnapshotFormatVersionMin ||
      f.header.format_version > kSnapshotFormatVersion) {
    return corrupt(fmt::format("unknown snapshot format version {} (this binary reads {} to {})",
                               f.header.format_version, kSnapshotFormatVersionMin,
                               kSnapshotFormatVersion));
  }
  if (const std::uint32_t reserved = load_u32(bytes, 12); reserved != 0) {
    return corrupt(fmt::format("snapshot header: reserved field is {:#x}, not 0", reserved));
  }
  f.header.applied_index = load_u64(bytes, 16);
  f.header.size_bytes = size;
  const std::size_t trailer_at = size - kSnapshotTrailerSize;
  if (bytes.substr(size - kSnapshotEndMagic.size()) != kSnapshotEndMagic) {
    return corrupt("snapshot truncated or damaged: no end marker in its last bytes");
  }
  const std::uint64_t body_size = load_u64(bytes, trailer_at);
  if (body_size != trailer_at - kSnapshotHeaderSize) {
    return corrupt(
        fmt::format("snapshot truncated or damaged: trailer says {} body bytes, the "
                    "file holds {}",
                    body_size, trailer_at - kSnapshotHeaderSize));
  }
  const std::uint32_t stored = load_u32(bytes, trailer_at + 8);
  const std::uint32_t computed = core::crc32c(bytes.substr(0, trailer_at + 8));
  if (stored != computed) {
    return corrupt(fmt::format("snapshot checksum mismatch: stored {:08x}, computed {:08x}", stored,
                               computed));
  }
  f.body = bytes.substr(kSnapshotHeaderSize, body_size);
  return f;
}

// Turns the record sequence into a Version: checks the order of sections and of keys as
// records arrive, then builds the tables, rebuilds the secondary indexes and validates.
class SnapshotDecoder {
 public:
  SnapshotDecoder(std::uint64_t header_index, std::uint32_t format_version)
      : header_index_(header_index), format_version_(format_version) {}

  // `number` counts the records before this one.
  core::Status add(proto::SnapshotRecord& rec, std::uint64_t number) {
    const Body body = rec.body_case();
    if (body == proto::SnapshotRecord::BODY_NOT_SET) {
      return bad(number, "has no body this version knows (field unknown or absent)");
    }
    if (have_end_) return bad(number, "follows the end record");
    if (!have_meta_ && body != proto::SnapshotRecord::kMeta) {
      return bad(number, fmt::format("({}) comes before the meta record", record_name(body)));
    }
    if (section_rank(body) < section_rank(static_cast<Body>(section_))) {
      return bad(number, fmt::format("({}) is out of order: it follows {} records",
                                     record_name(body), record_name(static_cast<Body>(section_))));
    }
    if (format_version_ < 2 &&
        section_rank(body) > section_rank(proto::SnapshotRecord::kCoordinate) &&
        body != proto::SnapshotRecord::kEnd) {
      return bad(number, fmt::format("({}) is not part of format version {}", record_name(body),
                                     format_version_));
    }
    if (format_version_ < 3 && body == proto::SnapshotRecord::kPreparedQuery) {
      return bad(number, fmt::format("({}) is not part of format version {}", record_name(body),
                                     format_version_));
    }
    section_ = static_cast<int>(body);
    switch (body) {
      case proto::SnapshotRecord::kMeta: return on_meta(rec.meta(), number);
      case proto::SnapshotRecord::kKv: {
        DirEntry e = row_from(*rec.mutable_kv());
        std::string key = e.key;
        return push(kvs_, std::move(key), std::move(e), number);
      }
      case proto::SnapshotRecord::kTombstone:
        return push(tombstones_, take_field(rec.mutable_tombstone()->mutable_key()),
                    rec.tombstone().index(), number);
      case proto::SnapshotRecord::kSession: {
        Session s = row_from(*rec.mutable_session());
        std::string key = s.id;
        return push(sessions_, std::move(key), std::move(s), number);
      }
      case proto::SnapshotRecord::kNode: {
        Node n = row_from(*rec.mutable_node());
        std::string key = core::to_lower(n.node);
        return push(nodes_, std::move(key), std::move(n), number);
      }
      case proto::SnapshotRecord::kService: {
        Service s = row_from(*rec.mutable_service());
        std::string key = service_key(s.node, s.id);
        return push(services_, std::move(key), std::move(s), number);
      }
      case proto::SnapshotRecord::kCheck: {
        HealthCheck c = row_from(*rec.mutable_check());
        std::string key = check_key(c.node, c.check_id);
        return push(checks_, std::move(key), std::move(c), number);
      }
      case proto::SnapshotRecord::kServiceIndex:
        return push(service_indexes_, take_field(rec.mutable_service_index()->mutable_name()),
                    rec.service_index().index(), number);
      case proto::SnapshotRecord::kLockDelay:
        return push(lock_delays_, take_field(rec.mutable_lock_delay()->mutable_key()),
                    rec.lock_delay().until_unix_ns(), number);
      case proto::SnapshotRecord::kCoordinate: {
        CoordinateRow c = row_from(*rec.mutable_coordinate());
        std::string key = composite_key(core::to_lower(c.node), c.segment);
        return push(coordinates_, std::move(key), std::move(c), number);
      }
      case proto::SnapshotRecord::kAclToken: {
        auto& m = *rec.mutable_acl_token();
        AclToken t = from_proto(m.token());
        t.create_index = m.create_index();
        t.modify_index = m.modify_index();
        std::string key = t.accessor_id;
        return push(acl_tokens_, std::move(key), std::move(t), number);
      }
      case proto::SnapshotRecord::kAclPolicy: {
        auto& m = *rec.mutable_acl_policy();
        AclPolicy p = from_proto(m.policy());
        p.create_index = m.create_index();
        p.modify_index = m.modify_index();
        std::string key = p.id;
        return push(acl_policies_, std::move(key), std::move(p), number);
      }
      case proto::SnapshotRecord::kAclRole: {
        auto& m = *rec.mutable_acl_role();
        AclRole r = from_proto(m.role());
        r.create_index = m.create_index();
        r.modify_index = m.modify_index();
        std::string key = r.id;
        return push(acl_roles_, std::move(key), std::move(r), number);
      }
      case proto::SnapshotRecord::kPreparedQuery: {
        auto& m = *rec.mutable_prepared_query();
        PreparedQuery q = from_proto(m.query());
        q.create_index = m.create_index();
        q.modify_index = m.modify_index();
        std::string key = q.id;
        return push(prepared_queries_, std::move(key), std::move(q), number);
      }
      case proto::SnapshotRecord::kEnd:
        have_end_ = true;
        if (rec.end().record_count() != number) {
          return bad(number, fmt::format("(end) counts {} records, {} came before it",
                                         rec.end().record_count(), number));
        }
        return core::ok();
      case proto::SnapshotRecord::BODY_NOT_SET: break;
    }
    PC_UNREACHABLE("record body {}", static_cast<int>(body));
  }

  core::Result<Snapshot> finish() {
    if (!have_meta_) return corrupt("snapshot body holds no records");
    if (!have_end_) return corrupt("snapshot body ends without its end record");
    Version& v = v_;
    v.kvs = std::move(kvs_).build();
    v.tombstones = std::move(tombstones_).build();
    v.sessions = std::move(sessions_).build();
    v.nodes = std::move(nodes_).build();
    v.services = std::move(services_).build();
    v.checks = std::move(checks_).build();
    v.service_indexes = std::move(service_indexes_).build();
    v.lock_delays = std::move(lock_delays_).build();
    v.coordinates = std::move(coordinates_).build();
    // The secondary indexes, from the rows: the invariants in detail/version.h say exactly
    // which rows have which index entries.
    std::vector<std::string> by_node, locks, by_name, by_service;
    by_node.reserve(v.sessions.size());
    by_name.reserve(v.services.size());
    for (const auto& e : v.sessions) {
      by_node.push_back(composite_key(core::to_lower(e.value.node), e.value.id));
    }
    for (const auto& e : v.kvs) {
      if (!e.value.session.empty()) locks.push_back(composite_key(e.value.session, e.key));
    }
    for (const auto& e : v.services) {
      by_name.push_back(composite_key(core::to_lower(e.value.service), e.key));
    }
    for (const auto& e : v.checks) {
      if (e.value.service_id.empty()) continue;
      by_service.push_back(composite_key(service_key(e.value.node, e.value.service_id), e.key));
    }
    v.sessions_by_node = index_from(std::move(by_node));
    v.session_locks = index_from(std::move(locks));
    v.services_by_name = index_from(std::move(by_name));
    v.checks_by_service = index_from(std::move(by_service));
    if (auto st = build_acl(v); !st) return st.error();
    if (auto st = build_queries(v); !st) return st.error();
    if (auto st = validate(v); !st) return st.error();
    return Snapshot(std::make_shared<const Version>(std::move(v_)));
  }

 private:
  static core::Error bad(std::uint64_t number, std::string_view what) {
    return corrupt(fmt::format("snapshot record {} {}", number, what));
  }

  // The end record closes the body whatever its member number; the rest go in number order.
  static int section_rank(Body body) {
    return body == proto::SnapshotRecord::kEnd ? std::numeric_limits<int>::max()
                                               : static_cast<int>(body);
  }

  // The ACL tables and their unique indexes (secret -> accessor, name -> id). A duplicate
  // secret or name, or a row whose indexes are out of order, was not made by apply.
  core::Status build_acl(Version& v) {
    v.acl_tokens = std::move(acl_tokens_).build();
    v.acl_policies = std::move(acl_policies_).build();
    v.acl_roles = std::move(acl_roles_).build();
    auto index_of = [&](Table t) { return v.table_indexes[static_cast<std::size_t>(t)]; };
    auto check = [&](std::string_view what, const std::string& id, std::uint64_t create,
                     std::uint64_t modify, Table table) -> core::Status {
      if (create == 0 || create > modify || modify > index_of(table)) {
        return corrupt(
            fmt::format("snapshot state: {} {} has indexes out of order", what, quote(id)));
      }
      return core::ok();
    };
    auto unique = [](PMap<std::string>& index, const std::string& key, const std::string& id,
                     std::string_view what) -> core::Status {
      if (index.contains(key)) {
        return corrupt(fmt::format("snapshot state: two ACL {} share {}", what, quote(key)));
      }
      index = index.set(key, id);
      return core::ok();
    };
    for (const auto& e : v.acl_tokens) {
      const AclToken& t = e.value;
      if (auto st =
              check("token", t.accessor_id, t.create_index, t.modify_index, Table::kAclTokens);
          !st) {
        return st;
      }
      if (auto st = unique(v.acl_tokens_by_secret, t.secret_id, t.accessor_id, "tokens"); !st) {
        return st;
      }
    }
    for (const auto& e : v.acl_policies) {
      const AclPolicy& p = e.value;
      if (auto st = check("policy", p.id, p.create_index, p.modify_index, Table::kAclPolicies);
          !st) {
        return st;
      }
      if (auto st = unique(v.acl_policies_by_name, p.name, p.id, "policies"); !st) return st;
    }
    for (const auto& e : v.acl_roles) {
      const AclRole& r = e.value;
      if (auto st = check("role", r.id, r.create_index, r.modify_index, Table::kAclRoles); !st) {
        return st;
      }
      if (auto st = unique(v.acl_roles_by_name, r.name, r.id, "roles"); !st) return st;
    }
    if (v.acl_bootstrap_index > v.applied_index) {
      return corrupt("snapshot state: the ACL bootstrap index is above the applied index");
    }
    return core::ok();
  }

  // The prepared-query table and its two unique indexes, refusing what apply never makes:
  // rows out of index order or above the table's index, names or template prefixes shared,
  // queries bound to missing sessions.
  core::Status build_queries(Version& v) {
    v.prepared_queries = std::move(prepared_queries_).build();
    const std::uint64_t table = v.table_indexes[static_cast<std::size_t>(Table::kPreparedQueries)];
    for (const auto& e : v.prepared_queries) {
      const PreparedQuery& q = e.value;
      if (q.id.empty() || q.create_index == 0 || q.create_index > q.modify_index ||
          q.modify_index > table) {
        return corrupt(
            fmt::format("snapshot state: prepared query {} has bad indexes", quote(q.id)));
      }
      if (!q.session.empty() && !v.sessions.contains(q.session)) {
        return corrupt(
            fmt::format("snapshot state: prepared query {} is bound to unknown session {}",
                        quote(q.id), quote(q.session)));
      }
      const std::string key = core::to_lower(q.name);
      if (!q.name.empty()) {
        if (v.prepared_queries_by_name.contains(key)) {
          return corrupt(
              fmt::format("snapshot state: two prepared queries named {}", quote(q.name)));
        }
        v.prepared_queries_by_name = v.prepared_queries_by_name.set(key, q.id);
      }
      if (q.is_template()) {
        if (v.query_templates.contains(key)) {
          return corrupt(
              fmt::format("snapshot state: two query templates for prefix {}", quote(q.name)));
        }
        v.query_templates = v.query_templates.set(key, q.id);
      }
    }
    return core::ok();
  }

  core::Status on_meta(const proto::SnapshotMeta& m, std::uint64_t number) {
    if (have_meta_) return bad(number, "is a second meta record");
    have_meta_ = true;
    if (m.applied_index() != header_index_) {
      return bad(number, fmt::format("(meta) says applied index {}, the header {}",
                                     m.applied_index(), header_index_));
    }
    // Format version 1 carries the first six tables' indexes, or seven once coordinates
    // existed; version 2 ten (through the ACL tables); version 3 all of them. Indexes not
    // carried read as 0 (those tables were empty).
    const int have = m.table_indexes_size();
    const bool count_ok = format_version_ < 2   ? (have == 6 || have == 7)
                          : format_version_ < 3 ? have == 10
                                                : have == static_cast<int>(kTableCount);
    if (!count_ok) {
      return bad(number, fmt::format("(meta) has {} table indexes, format version {} has {}", have,
                                     format_version_,
                                     format_version_ < 2   ? std::string("6 or 7")
                                     : format_version_ < 3 ? std::string("10")
                                                           : std::to_string(kTableCount)));
    }
    for (std::size_t t = 0; t < static_cast<std::size_t>(have); ++t) {
      const std::uint64_t index = m.table_indexes(static_cast<int>(t));
      if (index > m.applied_index()) {
        return bad(number,
                   fmt::format("(meta) puts table {} at index {}, above applied index {}",
                               table_name(static_cast<Table>(t)), index, m.applied_index()));
      }
      v_.table_indexes[t] = index;
    }
    v_.applied_index = m.applied_index();
    v_.lock_delays_prune_at = static_cast<std::size_t>(m.lock_delays_prune_at());
    v_.acl_bootstrap_index = m.acl_bootstrap_index();
    return core::ok();
  }

  // Appends a row; keys must strictly increase within a table, which also refuses
  // duplicates (two nodes whose names differ only in case, say).
  template <class V>
  core::Status push(typename PMap<V>::SortedBuilder& rows, std::string key, V value,
                    std::uint64_t number) {
    if (!rows.empty() && !(rows.last_key() < key)) {
      return bad(number, fmt::format("({}) key {} does not follow the previous key {}",
                                     record_name(static_cast<Body>(section_)), quote(key),
                                     quote(rows.last_key())));
    }
    rows.append(std::move(key), std::move(value));
    return core::ok();
  }

  // Index keys derive injectively from distinct row keys (composite_prefix is prefix-free),
  // so after sorting they strictly increase.
  static PMap<IndexRow> index_from(std::vector<std::string> keys) {
    std::sort(keys.begin(), keys.end());
    PMap<IndexRow>::SortedBuilder builder;
    for (auto& k : keys) {
      PC_ASSERT(builder.empty() || builder.last_key() < k, "duplicate secondary index key");
      builder.append(std::move(k), IndexRow{});
    }
    return std::move(builder).build();
  }

  // The invariants apply keeps (state/detail/version.h, state/tests/invariants.h). A state
  // that breaks one was not made by apply: refuse it here rather than let later applies and
  // reads meet rows that refer to nothing.
  static core::Status validate(const Version& v) {
    auto bad_state = [](std::string what) { return corrupt("snapshot state: " + what); };
    auto index_of = [&](Table t) { return v.table_indexes[static_cast<std::size_t>(t)]; };
    // Row indexes: created at some index, modified at or after it, no later than its table.
    auto indexes_ok = [](std::uint64_t create, std::uint64_t modify, std::uint64_t table) {
      return create != 0 && create <= modify && modify <= table;
    };
    for (const auto& e : v.kvs) {
      const DirEntry& d = e.value;
      if (!indexes_ok(d.create_index, d.modify_index, index_of(Table::kKvs))) {
        return bad_state(
            fmt::format("KV entry {} has create index {} and modify index {}, "
                        "with the kvs table at {}",
                        quote(d.key), d.create_index, d.modify_index, index_of(Table::kKvs)));
      }
      if (!d.session.empty() && !v.sessions.contains(d.session)) {
        return bad_state(fmt::format("KV entry {} is held by unknown session {}", quote(d.key),
                                     quote(d.session)));
      }
    }
    for (const auto& e : v.tombstones) {
      if (e.value > index_of(Table::kTombstones)) {
        return bad_state(fmt::format("tombstone {} at index {} is above the tombstones table",
                                     quote(e.key), e.value));
      }
    }
    for (const auto& e : v.sessions) {
      const Session& s = e.value;
      if (!indexes_ok(s.create_index, s.modify_index, index_of(Table::kSessions))) {
        return bad_state(fmt::format("session {} has indexes out of order", quote(s.id)));
      }
      if (s.behavior != "release" && s.behavior != "delete") {
        return bad_state(fmt::format("session {} has behavior {}", quote(s.id), quote(s.behavior)));
      }
      if (!v.nodes.contains(core::to_lower(s.node))) {
        return bad_state(
            fmt::format("session {} is on unknown node {}", quote(s.id), quote(s.node)));
      }
      std::vector<std::string_view> check_ids(s.node_checks.begin(), s.node_checks.end());
      for (const auto& ref : s.service_checks) check_ids.push_back(ref.id);
      for (std::string_view id : check_ids) {
        const HealthCheck* c = v.checks.find(check_key(s.node, id));
        if (c == nullptr || c->status == kHealthCritical) {
          return bad_state(fmt::format("session {} depends on check {}, which is {}", quote(s.id),
                                       quote(id), c == nullptr ? "missing" : "critical"));
        }
      }
    }
    for (const auto& e : v.nodes) {
      const Node& n = e.value;
      if (!indexes_ok(n.create_index, n.modify_index, index_of(Table::kNodes))) {
        return bad_state(fmt::format("node {} has indexes out of order", quote(n.node)));
      }
    }
    for (const auto& e : v.services) {
      const Service& s = e.value;
      if (!indexes_ok(s.create_index, s.modify_index, index_of(Table::kServices))) {
        return bad_state(fmt::format("service {} has indexes out of order", quote(s.id)));
      }
      if (!v.nodes.contains(core::to_lower(s.node))) {
        return bad_state(
            fmt::format("service {} is on unknown node {}", quote(s.id), quote(s.node)));
      }
    }
    for (const auto& e : v.checks) {
      const HealthCheck& c = e.value;
      if (!indexes_ok(c.create_index, c.modify_index, index_of(Table::kChecks))) {
        return bad_state(fmt::format("check {} has indexes out of order", quote(c.check_id)));
      }
      if (c.status.empty()) {
        return bad_state(fmt::format("check {} has no status", quote(c.check_id)));
      }
      if (!v.nodes.contains(core::to_lower(c.node))) {
        return bad_state(
            fmt::format("check {} is on unknown node {}", quote(c.check_id), quote(c.node)));
      }
      if (!c.service_id.empty() && !v.services.contains(service_key(c.node, c.service_id))) {
        return bad_state(fmt::format("check {} is on unknown service {}", quote(c.check_id),
                                     quote(c.service_id)));
      }
    }
    for (const auto& e : v.coordinates) {
      const CoordinateRow& c = e.value;
      if (auto problem = coordinate_row_problem(c); !problem.empty()) {
        return bad_state(fmt::format("coordinate of node {} has {}", quote(c.node), problem));
      }
      if (c.modify_index == 0 || c.modify_index > index_of(Table::kCoordinates)) {
        return bad_state(
            fmt::format("coordinate of node {} has modify index {}, with the "
                        "coordinates table at {}",
                        quote(c.node), c.modify_index, index_of(Table::kCoordinates)));
      }
      if (!v.nodes.contains(core::to_lower(c.node))) {
        return bad_state(fmt::format("coordinate of unknown node {}", quote(c.node)));
      }
    }
    for (const auto& e : v.service_indexes) {
      if (e.value > v.applied_index) {
        return bad_state(
            fmt::format("service {} index {} is above the applied index", quote(e.key), e.value));
      }
    }
    return core::ok();
  }

  const std::uint64_t header_index_;
  const std::uint32_t format_version_;
  Version v_;
  bool have_meta_ = false;
  bool have_end_ = false;
  int section_ = 0;  // body case of the last record: sections never go back
  PMap<DirEntry>::SortedBuilder kvs_;
  PMap<std::uint64_t>::SortedBuilder tombstones_;
  PMap<Session>::SortedBuilder sessions_;
  PMap<Node>::SortedBuilder nodes_;
  PMap<Service>::SortedBuilder services_;
  PMap<HealthCheck>::SortedBuilder checks_;
  PMap<std::uint64_t>::SortedBuilder service_indexes_;
  PMap<std::int64_t>::SortedBuilder lock_delays_;
  PMap<CoordinateRow>::SortedBuilder coordinates_;
  PMap<AclToken>::SortedBuilder acl_tokens_;
  PMap<AclPolicy>::SortedBuilder acl_policies_;
  PMap<AclRole>::SortedBuilder acl_roles_;
  PMap<PreparedQuery>::SortedBuilder prepared_queries_;
};

}  // namespace

core::Status write_snapshot(const Snapshot& snap, const SnapshotSink& sink,
                            const SnapshotWriteOptions& options) {
  const Version& v = version_of(snap);
  SnapshotWriter w(sink, options);
  w.begin(v.applied_index);
  {
    proto::SnapshotMeta meta;
    meta.set_applied_index(v.applied_index);
    for (std::uint64_t index : v.table_indexes) meta.add_table_indexes(index);
    meta.set_lock_delays_prune_at(v.lock_delays_prune_at);
    meta.set_acl_bootstrap_index(v.acl_bootstrap_index);
    w.add(proto::SnapshotRecord::kMetaFieldNumber, meta);
  }
  {
    proto::KvEntry m;
    add_table(w, v.kvs, proto::SnapshotRecord::kKvFieldNumber, m);
  }
  proto::KvTombstone tombstone;
  for (const auto& e : v.tombstones) {
    if (w.failed()) break;
    tombstone.set_key(e.key);
    tombstone.set_index(e.value);
    w.add(proto::SnapshotRecord::kTombstoneFieldNumber, tombstone);
  }
  {
    proto::SessionRow m;
    add_table(w, v.sessions, proto::SnapshotRecord::kSessionFieldNumber, m);
  }
  {
    proto::NodeRow m;
    add_table(w, v.nodes, proto::SnapshotRecord::kNodeFieldNumber, m);
  }
  {
    proto::ServiceRow m;
    add_table(w, v.services, proto::SnapshotRecord::kServiceFieldNumber, m);
  }
  {
    proto::CheckRow m;
    add_table(w, v.checks, proto::SnapshotRecord::kCheckFieldNumber, m);
  }
  proto::ServiceIndex service_index;
  for (const auto& e : v.service_indexes) {
    if (w.failed()) break;
    service_index.set_name(e.key);
    service_index.set_index(e.value);
    w.add(proto::SnapshotRecord::kServiceIndexFieldNumber, service_index);
  }
  proto::KvLockDelay lock_delay;
  for (const auto& e : v.lock_delays) {
    if (w.failed()) break;
    lock_delay.set_key(e.key);
    lock_delay.set_until_unix_ns(e.value);
    w.add(proto::SnapshotRecord::kLockDelayFieldNumber, lock_delay);
  }
  {
    proto::CoordinateRow m;
    add_table(w, v.coordinates, proto::SnapshotRecord::kCoordinateFieldNumber, m);
  }
  {
    proto::AclTokenRow m;
    add_table(w, v.acl_tokens, proto::SnapshotRecord::kAclTokenFieldNumber, m);
  }
  {
    proto::AclPolicyRow m;
    add_table(w, v.acl_policies, proto::SnapshotRecord::kAclPolicyFieldNumber, m);
  }
  {
    proto::AclRoleRow m;
    add_table(w, v.acl_roles, proto::SnapshotRecord::kAclRoleFieldNumber, m);
  }
  {
    proto::PreparedQueryRow m;
    add_table(w, v.prepared_queries, proto::SnapshotRecord::kPreparedQueryFieldNumber, m);
  }
  proto::SnapshotEnd end;
  end.set_record_count(w.records());
  w.add(proto::SnapshotRecord::kEndFieldNumber, end);
  if (auto st = w.finish(); !st) {
    return st.error().with_context(fmt::format("writing snapshot at index {}", v.applied_index));
  }
  return core::ok();
}

core::Status write_snapshot(const Snapshot& snap, std::string& out,
                            const SnapshotWriteOptions& options) {
  out.clear();
  return write_snapshot(
      snap,
      [&out](std::string_view bytes) {
        out.append(bytes);
        return core::ok();
      },
      options);
}

core::Result<SnapshotHeader> read_snapshot_header(std::string_view bytes) {
  auto frame = parse_frame(bytes);
  if (!frame) return frame.error();
  return frame->header;
}

core::Result<Snapshot> read_snapshot(std::string_view bytes, const SnapshotLimits& limits) {
  auto frame = parse_frame(bytes);
  if (!frame) return frame.error();
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  if (!dctx) return make_error(Code::kInternal, "zstd: cannot create a decompression context");
  if (const std::size_t r =
          ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, kSnapshotWindowLogMax);
      ZSTD_isError(r)) {
    return make_error(Code::kInternal, fmt::format("zstd: {}", ZSTD_getErrorName(r)));
  }
  SnapshotDecoder decoder(frame->header.applied_index, frame->header.format_version);
  proto::SnapshotRecord rec;
  // Decompressed bytes not yet decoded: at most one record plus one chunk.
  std::string buf;
  std::size_t pos = 0;
  std::uint64_t decompressed = 0;
  std::uint64_t number = 0;  // records decoded so far
  // protobuf parses at most 2 GiB at once, whatever the caller allows.
  const std::uint64_t record_max =
      std::min<std::uint64_t>(limits.record_size_max, std::numeric_limits<int>::max());
  const std::size_t chunk = ZSTD_DStreamOutSize();
  ZSTD_inBuffer in{frame->body.data(), frame->body.size(), 0};
  bool frame_done = false;
  for (;;) {
    // Decode every whole record buffered.
    for (;;) {
      std::uint64_t length = 0;
      std::size_t length_size = 0;
      const Varint prefix = read_varint(std::string_view(buf).substr(pos), length, length_size);
      if (prefix == Varint::kIncomplete) break;
      if (prefix == Varint::kBad) {
        return corrupt(fmt::format("snapshot record {}: bad length prefix", number));
      }
      if (length > record_max) {
        return make_error(Code::kTooLarge,
                          fmt::format("snapshot record {} is {} bytes, above the limit of {}",
                                      number, length, record_max));
      }
      if (buf.size() - pos - length_size < length) break;
      if (!rec.ParseFromArray(buf.data() + pos + length_size, static_cast<int>(length))) {
        return corrupt(fmt::format("snapshot record {} ({} bytes) does not parse", number, length));
      }
      if (auto st = decoder.add(rec, number); !st) return st.error();
      pos += length_size + static_cast<std::size_t>(length);
      ++number;
    }
    if (frame_done) break;
    // Keep only the undecoded tail, and decompress the next chunk after it.
    if (pos > 0) {
      buf.erase(0, pos);
      pos = 0;
    }
    const std::size_t at = buf.size();
    buf.resize(at + chunk);
    ZSTD_outBuffer out{buf.data() + at, chunk, 0};
    const std::size_t ret = ZSTD_decompressStream(dctx.get(), &out, &in);
    buf.resize(at + out.pos);
    if (ZSTD_isError(ret)) {
      return corrupt(fmt::format("snapshot body does not decompress: {}", ZSTD_getErrorName(ret)));
    }
    decompressed += out.pos;
    if (decompressed > limits.decompressed_size_max) {
      return make_error(Code::kTooLarge,
                        fmt::format("snapshot body decompresses to more than {} bytes",
                                    limits.decompressed_size_max));
    }
    if (ret == 0) {
      frame_done = true;  // the frame ended and every byte of it was flushed
      if (in.pos != in.size) {
        return corrupt(
            fmt::format("snapshot body has {} bytes after its compressed frame", in.size - in.pos));
      }
    } else if (in.pos == in.size && out.pos < out.size) {
      return corrupt("snapshot body truncated: its compressed frame does not end");
    }
  }
  if (pos != buf.size()) {
    return corrupt(fmt::format("snapshot body ends inside record {} ({} bytes left over)", number,
                               buf.size() - pos));
  }
  return decoder.finish();
}

core::Status restore_snapshot(Store& store, std::string_view bytes, const SnapshotLimits& limits) {
  auto state = read_snapshot(bytes, limits);
  if (!state) return state.error();
  store.restore(*state);
  return core::ok();
}

}  // namespace pc::state
