#include "dns/wire/message.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace pc::dns::wire {
namespace {

core::Error invalid(std::string reason) {
  return core::make_error(core::Code::kInvalidArgument, std::move(reason));
}

// Smallest possible question (root name, type, class) and resource record (root name, type,
// class, ttl, rdlength): used to refuse counts the packet cannot hold before allocating.
constexpr std::size_t kMinQuestionSize = 5;
constexpr std::size_t kMinRecordSize = 11;
// Compression pointers carry a 14-bit offset.
constexpr std::size_t kMaxPointerOffset = 0x3fff;

// ---------------------------------------------------------------------------------------
// Decoding

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}

  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }

  bool u8(std::uint8_t& out) {
    if (remaining() < 1) return false;
    out = data_[pos_++];
    return true;
  }
  bool u16(std::uint16_t& out) {
    if (remaining() < 2) return false;
    out = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& out) {
    if (remaining() < 4) return false;
    out = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
          (std::uint32_t{data_[pos_ + 2]} << 8) | std::uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return true;
  }
  bool bytes(std::size_t n, const std::uint8_t*& out) {
    if (remaining() < n) return false;
    out = data_.data() + pos_;
    pos_ += n;
    return true;
  }

  // Reads a possibly compressed name that must end (its uncompressed part) before `limit`.
  // Each pointer must point before the previous jump target (the first: before itself), so
  // following them always terminates.
  core::Result<std::string> name(std::size_t limit) {
    Labels labels;
    std::size_t wire = 1;
    std::size_t cursor = pos_;
    std::size_t bound = std::min(limit, data_.size());  // the current run stays below this
    std::size_t last_target = pos_;
    bool jumped = false;
    while (true) {
      if (cursor >= bound) return invalid("name runs past its end");
      std::uint8_t len = data_[cursor];
      if ((len & 0xc0) == 0xc0) {
        if (cursor + 1 >= bound) return invalid("name runs past its end");
        std::size_t target = (std::size_t{len & 0x3fu} << 8) | data_[cursor + 1];
        if (!jumped) pos_ = cursor + 2;
        if (target >= last_target || target >= cursor) {
          return invalid("compression pointer does not point backwards");
        }
        if (target < kHeaderSize) return invalid("compression pointer into the header");
        jumped = true;
        last_target = target;
        cursor = target;
        bound = data_.size();
        continue;
      }
      if ((len & 0xc0) != 0) return invalid("label longer than 63 bytes or of a reserved type");
      if (len == 0) {
        if (!jumped) pos_ = cursor + 1;
        break;
      }
      if (cursor + 1 + len > bound) return invalid("name runs past its end");
      wire += 1 + len;
      if (wire > kMaxNameLength) return invalid("name longer than 255 bytes");
      labels.emplace_back(reinterpret_cast<const char*>(data_.data() + cursor + 1), len);
      cursor += 1 + len;
    }
    return format_name(labels);
  }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

core::Result<Rdata> decode_rdata(Reader& r, std::uint16_t rtype, std::size_t rdlength) {
  const std::size_t end = r.pos() + rdlength;
  auto need_exact = [&](std::size_t n) -> core::Status {
    if (rdlength != n) return invalid("rdata length does not match its type");
    return core::ok();
  };
  auto name_in_rdata = [&]() { return r.name(end); };
  Rdata out;
  switch (rtype) {
    case type::kA: {
      if (auto st = need_exact(4); !st) return st.error();
      const std::uint8_t* p = nullptr;
      if (!r.bytes(4, p)) return invalid("truncated rdata");
      ARdata a;
      std::copy(p, p + 4, a.address.begin());
      out = a;
      break;
    }
    case type::kAaaa: {
      if (auto st = need_exact(16); !st) return st.error();
      const std::uint8_t* p = nullptr;
      if (!r.bytes(16, p)) return invalid("truncated rdata");
      AaaaRdata a;
      std::copy(p, p + 16, a.address.begin());
      out = a;
      break;
    }
    case type::kNs:
    case type::kCname:
    case type::kPtr: {
      auto n = name_in_rdata();
      if (!n) return n.error();
      if (rtype == type::kNs) out = NsRdata{std::move(*n)};
      if (rtype == type::kCname) out = CnameRdata{std::move(*n)};
      if (rtype == type::kPtr) out = PtrRdata{std::move(*n)};
      break;
    }
    case type::kSoa: {
      SoaRdata soa;
      auto m = name_in_rdata();
      if (!m) return m.error();
      auto rn = name_in_rdata();
      if (!rn) return rn.error();
      soa.mname = std::move(*m);
      soa.rname = std::move(*rn);
      if (end - r.pos() != 20) return invalid("rdata length does not match its type");
      if (!r.u32(soa.serial) || !r.u32(soa.refresh) || !r.u32(soa.retry) || !r.u32(soa.expire) ||
          !r.u32(soa.minimum)) {
        return invalid("truncated rdata");
      }
      out = std::move(soa);
      break;
    }
    case type::kTxt: {
      TxtRdata txt;
      while (r.pos() < end) {
        std::uint8_t len = 0;
        const std::uint8_t* p = nullptr;
        if (!r.u8(len) || r.pos() + len > end || !r.bytes(len, p)) {
          return invalid("TXT string runs past its rdata");
        }
        txt.strings.emplace_back(reinterpret_cast<const char*>(p), len);
      }
      out = std::move(txt);
      break;
    }
    case type::kSrv: {
      SrvRdata srv;
      if (rdlength < 7) return invalid("rdata length does not match its type");
      if (!r.u16(srv.priority) || !r.u16(srv.weight) || !r.u16(srv.port)) {
        return invalid("truncated rdata");
      }
      auto t = name_in_rdata();
      if (!t) return t.error();
      srv.target = std::move(*t);
      out = std::move(srv);
      break;
    }
    default: {
      const std::uint8_t* p = nullptr;
      if (!r.bytes(rdlength, p)) return invalid("truncated rdata");
      out = RawRdata{std::vector<std::uint8_t>(p, p + rdlength)};
      break;
    }
  }
  if (r.pos() != end) return invalid("rdata length does not match its contents");
  return out;
}

core::Result<Edns> decode_opt(Reader& r, std::uint16_t rclass, std::uint32_t ttl,
                              std::size_t rdlength) {
  Edns edns;
  edns.udp_payload_size = rclass;
  edns.extended_rcode = static_cast<std::uint8_t>(ttl >> 24);
  edns.version = static_cast<std::uint8_t>(ttl >> 16);
  edns.dnssec_ok = (ttl & 0x8000u) != 0;
  const std::size_t end = r.pos() + rdlength;
  while (r.pos() < end) {
    if (edns.options.size() >= kMaxEdnsOptions) return invalid("too many EDNS options");
    EdnsOption opt;
    std::uint16_t len = 0;
    const std::uint8_t* p = nullptr;
    if (end - r.pos() < 4 || !r.u16(opt.code) || !r.u16(len)) {
      return invalid("EDNS option runs past its rdata");
    }
    if (end - r.pos() < len || !r.bytes(len, p)) return invalid("EDNS option runs past its rdata");
    opt.data.assign(p, p + len);
    edns.options.push_back(std::move(opt));
  }
  return edns;
}

enum class Section { kAnswer, kAuthority, kAdditional };

core::Status decode_records(Reader& r, std::size_t count, Section section, Message& msg) {
  std::vector<Record>& out = section == Section::kAnswer      ? msg.answers
                             : section == Section::kAuthority ? msg.authority
                                                              : msg.additional;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    Record rec;
    auto name = r.name(SIZE_MAX);
    if (!name) return name.error();
    std::uint16_t rdlength = 0;
    if (!r.u16(rec.type) || !r.u16(rec.rclass) || !r.u32(rec.ttl) || !r.u16(rdlength)) {
      return invalid("truncated resource record");
    }
    if (r.remaining() < rdlength) return invalid("rdata runs past the message");
    if (rec.type == type::kOpt) {
      if (section != Section::kAdditional) return invalid("OPT record outside additional");
      if (msg.edns) return invalid("more than one OPT record");
      if (*name != ".") return invalid("OPT record with a non-root name");
      auto edns = decode_opt(r, rec.rclass, rec.ttl, rdlength);
      if (!edns) return edns.error();
      msg.edns = std::move(*edns);
      continue;
    }
    rec.name = std::move(*name);
    if (rec.rclass == kClassIn) {
      auto rdata = decode_rdata(r, rec.type, rdlength);
      if (!rdata) return rdata.error();
      rec.rdata = std::move(*rdata);
    } else {
      auto rdata = decode_rdata(r, 0, rdlength);  // type 0: kept raw
      if (!rdata) return rdata.error();
      rec.rdata = std::move(*rdata);
    }
    out.push_back(std::move(rec));
  }
  return core::ok();
}

// ---------------------------------------------------------------------------------------
// Encoding

class Writer {
 public:
  std::vector<std::uint8_t>& buf() { return buf_; }
  std::size_t size() const { return buf_.size(); }

  void u8(std::uint8_t v) { buf_.push_back(v); }
  void u16(std::uint16_t v) {
    buf_.push_back(static_cast<std::uint8_t>(v >> 8));
    buf_.push_back(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void put16(std::size_t at, std::uint16_t v) {
    buf_[at] = static_cast<std::uint8_t>(v >> 8);
    buf_[at + 1] = static_cast<std::uint8_t>(v);
  }

  // Writes a text name. With `compress`, reuses an earlier occurrence of its longest known
  // suffix; every suffix written here becomes known either way.
  core::Status name(std::string_view text, bool compress) {
    auto labels = parse_name(text);
    if (!labels) return labels.error();
    // keys[i]: the lower-cased wire form of labels i.. (RFC 4343 case-insensitive match).
    std::vector<std::string> keys(labels->size());
    std::string key;
    for (std::size_t i = labels->size(); i-- > 0;) {
      std::string label = (*labels)[i];
      for (char& c : label) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      key = static_cast<char>(label.size()) + label + key;
      keys[i] = key;
    }
    for (std::size_t i = 0; i < labels->size(); ++i) {
      if (compress) {
        auto it = table_.find(keys[i]);
        if (it != table_.end()) {
          u16(static_cast<std::uint16_t>(0xc000u | it->second));
          return core::ok();
        }
      }
      if (buf_.size() <= kMaxPointerOffset) table_.emplace(keys[i], buf_.size());
      const std::string& label = (*labels)[i];
      u8(static_cast<std::uint8_t>(label.size()));
      buf_.insert(buf_.end(), label.begin(), label.end());
    }
    u8(0);
    return core::ok();
  }

 private:
  std::vector<std::uint8_t> buf_;
  std::unordered_map<std::string, std::size_t> table_;
};

core::Status encode_rdata(Writer& w, const Record& rec) {
  auto mismatch = [&] { return invalid("rdata does not match record type"); };
  return std::visit(
      [&](const auto& rd) -> core::Status {
        using T = std::decay_t<decltype(rd)>;
        if constexpr (std::is_same_v<T, RawRdata>) {
          w.buf().insert(w.buf().end(), rd.bytes.begin(), rd.bytes.end());
          return core::ok();
        } else if constexpr (std::is_same_v<T, ARdata>) {
          if (rec.type != type::kA) return mismatch();
          w.buf().insert(w.buf().end(), rd.address.begin(), rd.address.end());
          return core::ok();
        } else if constexpr (std::is_same_v<T, AaaaRdata>) {
          if (rec.type != type::kAaaa) return mismatch();
          w.buf().insert(w.buf().end(), rd.address.begin(), rd.address.end());
          return core::ok();
        } else if constexpr (std::is_same_v<T, NsRdata>) {
          if (rec.type != type::kNs) return mismatch();
          return w.name(rd.name, true);
        } else if constexpr (std::is_same_v<T, CnameRdata>) {
          if (rec.type != type::kCname) return mismatch();
          return w.name(rd.name, true);
        } else if constexpr (std::is_same_v<T, PtrRdata>) {
          if (rec.type != type::kPtr) return mismatch();
          return w.name(rd.name, true);
        } else if constexpr (std::is_same_v<T, SoaRdata>) {
          if (rec.type != type::kSoa) return mismatch();
          if (auto st = w.name(rd.mname, true); !st) return st;
          if (auto st = w.name(rd.rname, true); !st) return st;
          w.u32(rd.serial);
          w.u32(rd.refresh);
          w.u32(rd.retry);
          w.u32(rd.expire);
          w.u32(rd.minimum);
          return core::ok();
        } else if constexpr (std::is_same_v<T, TxtRdata>) {
          if (rec.type != type::kTxt) return mismatch();
          for (const auto& s : rd.strings) {
            if (s.size() > 255) return invalid("TXT string longer than 255 bytes");
            w.u8(static_cast<std::uint8_t>(s.size()));
            w.buf().insert(w.buf().end(), s.begin(), s.end());
          }
          return core::ok();
        } else {
          static_assert(std::is_same_v<T, SrvRdata>);
          if (rec.type != type::kSrv) return mismatch();
          w.u16(rd.priority);
          w.u16(rd.weight);
          w.u16(rd.port);
          return w.name(rd.target, false);
        }
      },
      rec.rdata);
}

core::Status encode_record(Writer& w, const Record& rec) {
  if (rec.type == type::kOpt) return invalid("OPT record among the records: use Message::edns");
  if (auto st = w.name(rec.name, true); !st) return st;
  w.u16(rec.type);
  w.u16(rec.rclass);
  w.u32(rec.ttl);
  const std::size_t len_at = w.size();
  w.u16(0);
  if (auto st = encode_rdata(w, rec); !st) return st;
  const std::size_t rdlength = w.size() - len_at - 2;
  if (rdlength > 0xffff) return invalid("rdata longer than 65535 bytes");
  w.put16(len_at, static_cast<std::uint16_t>(rdlength));
  return core::ok();
}

std::size_t opt_size(const Edns& edns) {
  std::size_t n = 11;
  for (const auto& o : edns.options) n += 4 + o.data.size();
  return n;
}

void encode_opt(Writer& w, const Edns& edns) {
  w.u8(0);  // root name
  w.u16(type::kOpt);
  w.u16(edns.udp_payload_size);
  w.u32((std::uint32_t{edns.extended_rcode} << 24) | (std::uint32_t{edns.version} << 16) |
        (edns.dnssec_ok ? 0x8000u : 0u));
  std::size_t len = opt_size(edns) - 11;
  w.u16(static_cast<std::uint16_t>(len));
  for (const auto& o : edns.options) {
    w.u16(o.code);
    w.u16(static_cast<std::uint16_t>(o.data.size()));
    w.buf().insert(w.buf().end(), o.data.begin(), o.data.end());
  }
}

// What one encoding pass writes: how many records of each section, and whether the
// questions and the OPT record go in.
struct Plan {
  bool questions = true;
  std::size_t answers = 0;
  std::size_t authority = 0;
  std::size_t additional = 0;
  bool opt = false;
  bool tc = false;
};

struct Pass {
  std::vector<std::uint8_t> bytes;
  std::size_t questions_end = 0;
  std::vector<std::size_t> record_ends;  // after each record, in wire order
};

core::Result<Pass> encode_pass(const Message& m, const Plan& plan) {
  Writer w;
  const Header& h = m.header;
  w.u16(h.id);
  std::uint16_t flags = static_cast<std::uint16_t>(
      (h.qr ? 0x8000u : 0u) | ((h.opcode & 0xfu) << 11) | (h.aa ? 0x0400u : 0u) |
      ((h.tc || plan.tc) ? 0x0200u : 0u) | (h.rd ? 0x0100u : 0u) | (h.ra ? 0x0080u : 0u) |
      (h.ad ? 0x0020u : 0u) | (h.cd ? 0x0010u : 0u) | (h.rcode & 0xfu));
  w.u16(flags);
  const std::size_t qd = plan.questions ? m.questions.size() : 0;
  w.u16(static_cast<std::uint16_t>(qd));
  w.u16(static_cast<std::uint16_t>(plan.answers));
  w.u16(static_cast<std::uint16_t>(plan.authority));
  w.u16(static_cast<std::uint16_t>(plan.additional + (plan.opt ? 1 : 0)));
  for (std::size_t i = 0; i < qd; ++i) {
    const Question& q = m.questions[i];
    if (auto st = w.name(q.name, true); !st) return st.error();
    w.u16(q.qtype);
    w.u16(q.qclass);
  }
  Pass pass;
  pass.questions_end = w.size();
  auto section = [&](const std::vector<Record>& recs, std::size_t n) -> core::Status {
    for (std::size_t i = 0; i < n; ++i) {
      if (auto st = encode_record(w, recs[i]); !st) return st;
      pass.record_ends.push_back(w.size());
    }
    return core::ok();
  };
  if (auto st = section(m.answers, plan.answers); !st) return st.error();
  if (auto st = section(m.authority, plan.authority); !st) return st.error();
  if (auto st = section(m.additional, plan.additional); !st) return st.error();
  if (plan.opt) encode_opt(w, *m.edns);
  pass.bytes = std::move(w.buf());
  return pass;
}

}  // namespace

core::Result<Message> decode(std::span<const std::uint8_t> bytes) {
  Reader r(bytes);
  Message msg;
  std::uint16_t flags = 0;
  std::uint16_t qd = 0;
  std::uint16_t an = 0;
  std::uint16_t ns = 0;
  std::uint16_t ar = 0;
  if (!r.u16(msg.header.id) || !r.u16(flags) || !r.u16(qd) || !r.u16(an) || !r.u16(ns) ||
      !r.u16(ar)) {
    return invalid("truncated header");
  }
  Header& h = msg.header;
  h.qr = (flags & 0x8000u) != 0;
  h.opcode = static_cast<std::uint8_t>((flags >> 11) & 0xfu);
  h.aa = (flags & 0x0400u) != 0;
  h.tc = (flags & 0x0200u) != 0;
  h.rd = (flags & 0x0100u) != 0;
  h.ra = (flags & 0x0080u) != 0;
  h.ad = (flags & 0x0020u) != 0;
  h.cd = (flags & 0x0010u) != 0;
  h.rcode = static_cast<std::uint8_t>(flags & 0xfu);
  if (qd > kMaxRecordsPerSection || an > kMaxRecordsPerSection || ns > kMaxRecordsPerSection ||
      ar > kMaxRecordsPerSection) {
    return invalid("too many records in a section");
  }
  if (std::size_t{qd} * kMinQuestionSize + (std::size_t{an} + ns + ar) * kMinRecordSize >
      r.remaining()) {
    return invalid("record counts exceed the message size");
  }
  msg.questions.reserve(qd);
  for (std::size_t i = 0; i < qd; ++i) {
    Question q;
    auto name = r.name(SIZE_MAX);
    if (!name) return name.error();
    q.name = std::move(*name);
    if (!r.u16(q.qtype) || !r.u16(q.qclass)) return invalid("truncated question");
    msg.questions.push_back(std::move(q));
  }
  if (auto st = decode_records(r, an, Section::kAnswer, msg); !st) return st.error();
  if (auto st = decode_records(r, ns, Section::kAuthority, msg); !st) return st.error();
  if (auto st = decode_records(r, ar, Section::kAdditional, msg); !st) return st.error();
  if (r.remaining() != 0) return invalid("bytes after the last record");
  return msg;
}

core::Result<EncodeResult> encode(const Message& message, std::size_t max_size) {
  if (message.questions.size() > kMaxRecordsPerSection ||
      message.answers.size() > kMaxRecordsPerSection ||
      message.authority.size() > kMaxRecordsPerSection ||
      message.additional.size() > kMaxRecordsPerSection) {
    return invalid("too many records in a section");
  }
  if (max_size < kHeaderSize) max_size = kHeaderSize;
  if (max_size > kMaxMessageSize) max_size = kMaxMessageSize;
  Plan plan;
  plan.answers = message.answers.size();
  plan.authority = message.authority.size();
  plan.additional = message.additional.size();
  plan.opt = message.edns.has_value();
  if (plan.opt) {
    for (const auto& o : message.edns->options) {
      if (o.data.size() > 0xffff) return invalid("EDNS option longer than 65535 bytes");
    }
    if (opt_size(*message.edns) - 11 > 0xffff) return invalid("OPT rdata too long");
  }
  auto full = encode_pass(message, plan);
  if (!full) return full.error();
  if (full->bytes.size() <= max_size) return EncodeResult{std::move(full->bytes), false};

  // Keep the longest prefix of records, in wire order, that fits with the OPT record. The
  // prefix encodes to the same bytes as in the full pass: compression only looks backwards.
  const std::size_t opt_bytes = plan.opt ? opt_size(*message.edns) : 0;
  const std::size_t total = full->record_ends.size();
  std::size_t keep = 0;
  bool fits = full->questions_end + opt_bytes <= max_size;
  if (!fits && plan.opt && full->questions_end <= max_size) {
    plan.opt = false;  // the questions without OPT still fit
    fits = true;
  }
  if (fits) {
    for (std::size_t k = total; k > 0; --k) {
      if (full->record_ends[k - 1] + (plan.opt ? opt_bytes : 0) <= max_size) {
        keep = k;
        break;
      }
    }
  } else {
    plan.opt = false;
    plan.questions = false;
  }
  Plan cut = plan;
  cut.answers = std::min(keep, plan.answers);
  keep -= cut.answers;
  cut.authority = std::min(keep, plan.authority);
  keep -= cut.authority;
  cut.additional = std::min(keep, plan.additional);
  cut.tc = cut.answers < plan.answers || cut.authority < plan.authority || !cut.questions;
  auto pass = encode_pass(message, cut);
  if (!pass) return pass.error();
  PC_ASSERT(pass->bytes.size() <= max_size, "truncated DNS message of {} bytes over {}",
            pass->bytes.size(), max_size);
  return EncodeResult{std::move(pass->bytes), true};
}

}  // namespace pc::dns::wire
