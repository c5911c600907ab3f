#include "dns/resolver.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "dns/host_completion.h"
#include "dns/wire/name.h"
#include "endpoints/catalog.h"
#include "state/types.h"

namespace pc::dns {
namespace {

using wire::Labels;
using wire::Message;
using wire::Record;

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool label_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string join(const Labels& labels, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    if (i > begin) out += '.';
    out += labels[i];
  }
  return out;
}

// An IP address in its binary form; nullopt when the text is not an address (a host name).
struct Ip {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
};

std::optional<Ip> parse_ip(const std::string& text) {
  Ip ip;
  if (inet_pton(AF_INET, text.c_str(), ip.bytes.data()) == 1) return ip;
  if (inet_pton(AF_INET6, text.c_str(), ip.bytes.data()) == 1) {
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

bool wants_a(std::uint16_t qtype) {
  return qtype == wire::type::kA || qtype == wire::type::kAny;
}
bool wants_aaaa(std::uint16_t qtype) {
  return qtype == wire::type::kAaaa || qtype == wire::type::kAny;
}

// An A or AAAA record for `ip` if `qtype` asks for that family.
std::optional<Record> ip_record(const std::string& name, const Ip& ip, std::uint16_t qtype,
                                std::uint32_t ttl) {
  Record r;
  r.name = name;
  r.ttl = ttl;
  if (!ip.v6 && wants_a(qtype)) {
    r.type = wire::type::kA;
    wire::ARdata a;
    std::copy_n(ip.bytes.begin(), 4, a.address.begin());
    r.rdata = a;
    return r;
  }
  if (ip.v6 && wants_aaaa(qtype)) {
    r.type = wire::type::kAaaa;
    r.rdata = wire::AaaaRdata{ip.bytes};
    return r;
  }
  return std::nullopt;
}

std::string hex_of(const Ip& ip) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < (ip.v6 ? 16u : 4u); ++i) {
    out += kDigits[ip.bytes[i] >> 4];
    out += kDigits[ip.bytes[i] & 0xf];
  }
  return out;
}

std::optional<Ip> ip_from_hex(std::string_view hex) {
  if (hex.size() != 8 && hex.size() != 32) return std::nullopt;
  Ip ip;
  ip.v6 = hex.size() == 32;
  auto nibble = [](char c) -> int {
    c = lower(c);
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size() / 2; ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    ip.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return ip;
}

template <typename T>
void shuffle(std::vector<T>& v, core::Rand& rand) {
  for (std::size_t i = v.size(); i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(rand.next_u64() % i);
    std::swap(v[i - 1], v[j]);
  }
}

std::string lower_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = lower(c);
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

// RFC 1464's key=value, with '`' quoting '=', '`' and the key's leading and trailing spaces.
std::string rfc1464(std::string_view key, std::string_view value) {
  std::size_t lead = 0;
  while (lead < key.size() && key[lead] == ' ') ++lead;
  std::size_t trail = 0;
  while (trail < key.size() - lead && key[key.size() - 1 - trail] == ' ') ++trail;
  std::string out;
  for (std::size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == '`' || c == '=' || (c == ' ' && (i < lead || i >= key.size() - trail))) out += '`';
    out += c;
  }
  out += '=';
  for (char c : value) {
    if (c == '`') out += '`';
    out += c;
  }
  return out;
}

// A TXT rdata for `text`, split into the 255-byte character-strings RFC 1035 allows.
wire::TxtRdata txt_of(std::string_view text) {
  wire::TxtRdata t;
  do {
    t.strings.emplace_back(text.substr(0, 255));
    text.remove_prefix(std::min<std::size_t>(255, text.size()));
  } while (!text.empty());
  return t;
}

// A node name that cannot be a DNS label sequence (Consul's InvalidNameRe) is never made a
// target.
bool valid_dns_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// How deep CNAME targets inside the domain are chased (Consul's maxRecursionLevelDefault).
constexpr int kMaxRecursion = 3;

class Resolver {
 public:
  Resolver(const Message& query, const state::Snapshot& snap, const ResolverConfig& config,
           core::Rand& rand, const ExternalRecords* external, const acl::Authorizer* authz,
           int depth, const PreparedQueryAnswer* query_answer = nullptr)
      : query_(query),
        snap_(snap),
        config_(config),
        rand_(rand),
        external_(external),
        authz_(authz),
        depth_(depth),
        query_answer_(query_answer),
        target_dc_(config.datacenter) {}

  Resolution run() {
    Resolution out;
    Message& resp = out.response;
    resp.header.id = query_.header.id;
    resp.header.qr = true;
    resp.header.opcode = query_.header.opcode;
    resp.header.rd = query_.header.rd;
    resp.header.ra = config_.recursion_available;
    resp.questions = query_.questions;
    if (query_.edns) {
      wire::Edns edns;
      edns.udp_payload_size = query_.edns->udp_payload_size;
      resp.edns = edns;
    }
    if (query_.header.opcode != 0) {
      resp.header.rcode = wire::rcode::kNotImp;
      return out;
    }
    if (query_.questions.size() != 1) {
      resp.header.rcode = wire::rcode::kFormErr;
      return out;
    }
    const wire::Question& q = query_.questions.front();
    auto labels = wire::parse_name(q.name);
    if (!labels) {
      resp.header.rcode = wire::rcode::kFormErr;
      return out;
    }
    if (q.qclass != wire::kClassIn && q.qclass != wire::type::kAny) {
      resp.header.rcode = wire::rcode::kNotImp;
      return out;
    }
    qname_ = q.name;
    if (!qname_.empty() && qname_.back() != '.') qname_ += '.';
    qtype_ = q.qtype;
    domain_ = lower_name(config_.domain);
    resp_domain_ = domain_;
    resp_ = &resp;
    out_ = &out;
    resp.header.aa = true;
    answer(labels.value());
    std::sort(out.external_names.begin(), out.external_names.end());
    out.external_names.erase(std::unique(out.external_names.begin(), out.external_names.end()),
                             out.external_names.end());
    return out;
  }

 private:
  // How many labels of `labels` lie before the domain (or alt domain) they end in, and set
  // resp_domain_ to it; nullopt when neither matches. The longer domain wins when one is a
  // suffix of the other.
  std::optional<std::size_t> in_domain(const Labels& labels) {
    std::optional<std::size_t> best;
    std::size_t best_size = 0;
    for (const std::string& d : {config_.domain, config_.alt_domain}) {
      if (d.empty()) continue;
      auto domain = wire::parse_name(d);
      if (!domain || labels.size() < domain->size()) continue;
      std::size_t n = labels.size() - domain->size();
      bool match = true;
      for (std::size_t i = 0; i < domain->size() && match; ++i) {
        match = label_equal(labels[n + i], (*domain)[i]);
      }
      if (match && (!best || domain->size() > best_size)) {
        best = n;
        best_size = domain->size();
        resp_domain_ = lower_name(d);
      }
    }
    return best;
  }

  void answer(const Labels& labels) {
    if (is_reverse(labels)) return ptr_lookup(labels);
    auto prefix = in_domain(labels);
    if (!prefix) return outside();
    const std::size_t n = *prefix;
    if (qtype_ == wire::type::kSoa) return soa_answer();
    if (qtype_ == wire::type::kNs) return ns_answer();
    if (qtype_ == kAxfr) {
      resp_->header.rcode = wire::rcode::kNotImp;
      return;
    }
    if (n == 0) return finish();  // the apex holds only SOA and NS
    // The lookup kind is the rightmost kind label; an SRV question may leave out "service"
    // (_name._tag.DOMAIN). Labels after the kind name the datacenter.
    std::size_t kind_at = n;
    bool implicit_service = false;
    for (std::size_t i = n; i-- > 0;) {
      if (is_kind(labels[i])) {
        kind_at = i;
        break;
      }
      if (qtype_ == wire::type::kSrv && labels[i].starts_with('_')) {
        kind_at = i;
        implicit_service = true;
        break;
      }
    }
    if (kind_at == n) return not_found();
    const std::size_t parts_end = implicit_service ? kind_at + 1 : kind_at;
    Labels parts(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(parts_end));
    Labels suffix(labels.begin() + static_cast<std::ptrdiff_t>(kind_at + 1),
                  labels.begin() + static_cast<std::ptrdiff_t>(n));
    std::string dc = config_.datacenter;
    if (suffix.size() == 1) {
      dc = suffix[0];
    } else if (suffix.size() == 2 && label_equal(suffix[1], "dc")) {
      dc = suffix[0];
    } else if (!suffix.empty()) {
      return not_found();
    }
    if (!label_equal(dc, config_.datacenter)) {
      // Another datacenter's name: NXDOMAIN here, and the server may ask that datacenter.
      out_->other_datacenter = core::to_lower(dc);
      return not_found();
    }
    if (parts.empty()) return not_found();
    const std::string& kind = labels[kind_at];
    if (implicit_service || label_equal(kind, "service")) return service_lookup(parts);
    if (label_equal(kind, "node")) return node_lookup(join(parts, 0, parts.size()));
    if (label_equal(kind, "addr")) return addr_lookup(parts);
    if (label_equal(kind, "query")) return query_lookup(join(parts, 0, parts.size()));
    return not_found();
  }

  // A prepared query: handed back to be run, or answered from what running it gave. No
  // instance is NXDOMAIN, as for a service.
  void query_lookup(const std::string& name) {
    if (query_answer_ == nullptr) {
      out_->prepared_query = name;
      out_->cacheable = false;
      return;
    }
    out_->cacheable = false;
    if (!query_answer_->found || query_answer_->nodes.empty()) return not_found();
    std::vector<Instance> entries;
    for (const auto& csn : query_answer_->nodes) {
      bool warning = false;
      for (const auto& c : csn.checks) warning = warning || c.status == state::kHealthWarning;
      entries.push_back(Instance{csn.service, csn.node.address, csn.node.meta, warning});
    }
    if (!query_answer_->datacenter.empty()) target_dc_ = query_answer_->datacenter;
    const std::uint32_t ttl =
        query_answer_->ttl.value_or(service_ttl_for(config_, query_answer_->service));
    if (qtype_ == wire::type::kSrv) return srv_answers(entries, ttl);
    address_answers(entries, ttl);
  }

  static constexpr std::uint16_t kAxfr = 252;

  static bool is_kind(std::string_view label) {
    return label_equal(label, "service") || label_equal(label, "node") ||
           label_equal(label, "addr") || label_equal(label, "query");
  }

  static bool is_reverse(const Labels& labels) {
    return labels.size() >= 2 && label_equal(labels[labels.size() - 1], "arpa") &&
           (label_equal(labels[labels.size() - 2], "in-addr") ||
            label_equal(labels[labels.size() - 2], "ip6"));
  }

  // A name the catalog does not hold: the recursors' business when there are any.
  void outside() {
    if (config_.recursion_available) {
      out_->forward = true;
      return;
    }
    resp_->header.aa = false;
    resp_->header.rcode = wire::rcode::kRefused;
  }

  Record soa() const {
    Record r;
    r.name = resp_domain_;
    r.type = wire::type::kSoa;
    r.ttl = config_.soa_min_ttl;
    wire::SoaRdata s;
    s.mname = "ns." + resp_domain_;
    s.rname = "hostmaster." + resp_domain_;
    s.serial = static_cast<std::uint32_t>(snap_.applied_index());
    s.refresh = config_.soa_refresh;
    s.retry = config_.soa_retry;
    s.expire = config_.soa_expire;
    s.minimum = config_.soa_min_ttl;
    r.rdata = s;
    return r;
  }

  void not_found() {
    resp_->header.rcode = wire::rcode::kNxDomain;
    resp_->authority.push_back(soa());
  }

  // NOERROR: the SOA goes in authority when nothing answered.
  void finish() {
    if (resp_->answers.empty()) resp_->authority.push_back(soa());
  }

  // Up to three healthy servers (instances of the "consul" service) as the domain's name
  // servers, with their addresses as glue (Consul's getNameserversAndNodeRecord).
  void name_servers(std::vector<Record>& ns, std::vector<Record>& glue) {
    auto servers = healthy_instances("consul", "");
    shuffle(servers, rand_);
    for (const auto& e : servers) {
      if (!valid_dns_name(e.service.node)) continue;
      const std::string target = lower_name(node_target(e.service.node));
      bool seen = false;
      for (const auto& r : ns) seen = seen || std::get<wire::NsRdata>(r.rdata).name == target;
      if (seen) continue;
      Record r;
      r.name = resp_domain_;
      r.type = wire::type::kNs;
      r.ttl = config_.node_ttl;
      r.rdata = wire::NsRdata{target};
      ns.push_back(std::move(r));
      node_address_records(e.node_address, target, wire::type::kAny, config_.node_ttl, glue);
      if (ns.size() >= 3) break;
    }
  }

  void soa_answer() {
    resp_->answers.push_back(soa());
    name_servers(resp_->authority, resp_->additional);
  }

  void ns_answer() {
    name_servers(resp_->answers, resp_->additional);
    finish();
  }

  std::string node_target(const std::string& node) const {
    return node + ".node." + target_dc_ + "." + resp_domain_;
  }

  // Consul's CheckServiceNodes.Filter: any critical check (maintenance included) leaves the
  // instance out; with only_passing, so does any check that is not passing.
  bool healthy(const std::vector<state::HealthCheck>& checks, bool& warning) const {
    warning = false;
    for (const auto& c : checks) {
      if (c.status == state::kHealthPassing) continue;
      if (c.status == state::kHealthWarning) {
        if (config_.only_passing) return false;
        warning = true;
        continue;
      }
      return false;  // critical, maintenance, or anything unknown
    }
    return true;
  }

  struct Instance {
    state::Service service;
    std::string node_address;
    std::map<std::string, std::string> node_meta;
    bool warning = false;
  };

  // What the token may read (Consul's aclFilter on the reads DNS makes); all without ACLs.
  bool node_readable(std::string_view node) const {
    return authz_ == nullptr || acl::allowed(authz_->node_read(node));
  }
  bool instance_readable(const state::Service& s) const {
    return authz_ == nullptr ||
           (acl::allowed(authz_->service_read(s.service)) && node_readable(s.node));
  }

  std::vector<Instance> healthy_instances(const std::string& name, const std::string& tag) {
    std::vector<Instance> out;
    std::vector<std::string> tags;
    if (!tag.empty()) tags.push_back(tag);
    for (auto& s : snap_.service_instances(name)) {
      if (!tags.empty() && !endpoints::has_all_tags(s, tags)) continue;
      if (!instance_readable(s)) continue;
      bool warning = false;
      if (!healthy(snap_.checks_for_instance(s.node, s.id), warning)) continue;
      auto node = snap_.node_get(s.node);
      if (!node) continue;
      out.push_back(Instance{std::move(s), node->address, node->meta, warning});
    }
    return out;
  }

  // The A/AAAA records a host name (an address that is not an IP) stands for: answered here
  // when it lies in the domain, else from what the server found through the recursors.
  std::vector<Record> resolve_host(const std::string& host) {
    const std::string fqdn = lower_name(host);
    Labels labels;
    if (auto parsed = wire::parse_name(fqdn)) labels = std::move(*parsed);
    std::string saved_domain = resp_domain_;
    const bool inside = !labels.empty() && in_domain(labels).has_value();
    resp_domain_ = saved_domain;
    if (inside) {
      if (depth_ >= kMaxRecursion) return {};
      Message q;
      q.questions.push_back(wire::Question{fqdn, wire::type::kAny, wire::kClassIn});
      Resolution sub = Resolver(q, snap_, config_, rand_, external_, authz_, depth_ + 1).run();
      for (auto& n : sub.external_names) out_->external_names.push_back(std::move(n));
      return std::move(sub.response.answers);
    }
    if (external_) {
      if (auto it = external_->find(fqdn); it != external_->end()) return it->second;
    }
    if (config_.recursion_available) out_->external_names.push_back(fqdn);
    return {};
  }

  // The records of a host name, with the answer's TTL, at most kHostRecordsNoEdnsMax without
  // EDNS0 (Consul's makeRecordFromFQDN).
  std::vector<Record> host_records(const std::string& host, std::uint32_t ttl) {
    return host_records_of(resolve_host(host), ttl, query_.edns.has_value());
  }

  Record cname(const std::string& name, const std::string& target, std::uint32_t ttl) const {
    Record r;
    r.name = name;
    r.type = wire::type::kCname;
    r.ttl = ttl;
    r.rdata = wire::CnameRdata{lower_name(target)};
    return r;
  }

  // A node's address as records named `name`: A/AAAA for an IP of the asked family, or a
  // CNAME to a host name followed by what it resolves to.
  void node_address_records(const std::string& address, const std::string& name,
                            std::uint16_t qtype, std::uint32_t ttl, std::vector<Record>& out) {
    if (auto ip = parse_ip(address)) {
      if (auto r = ip_record(name, *ip, qtype, ttl)) out.push_back(std::move(*r));
      return;
    }
    if (address.empty()) return;
    out.push_back(cname(name, address, ttl));
    for (auto& r : resolve_host(address)) out.push_back(std::move(r));
  }

  void txt_meta(const std::string& name, const std::map<std::string, std::string>& meta,
                std::uint32_t ttl, std::vector<Record>& out) const {
    for (const auto& [key, value] : meta) {
      Record r;
      r.name = name;
      r.type = wire::type::kTxt;
      r.ttl = ttl;
      const bool raw =
          key.size() >= 8 && label_equal(std::string_view(key).substr(0, 8), "rfc1035-");
      r.rdata = txt_of(raw ? value : rfc1464(key, value));
      out.push_back(std::move(r));
    }
  }

  void service_lookup(const Labels& parts) {
    std::string name;
    std::string tag;
    if (parts.size() == 2 && parts[0].starts_with('_') && parts[1].starts_with('_')) {
      name = parts[0].substr(1);
      tag = parts[1].substr(1);
      if (label_equal(tag, "tcp")) tag.clear();
    } else {
      name = parts.back();
      tag = join(parts, 0, parts.size() - 1);
    }
    auto entries = healthy_instances(name, tag);
    if (entries.empty()) return not_found();  // Consul: no healthy instance is NXDOMAIN
    shuffle(entries, rand_);
    const std::uint32_t ttl = service_ttl_for(config_, name);
    if (qtype_ == wire::type::kSrv) return srv_answers(entries, ttl);
    address_answers(entries, ttl);
  }

  // SRV: one record per node, address and port; the target is the node (its address from
  // the node), HEX.addr (a service IP) or the host name, with the target's records in the
  // additional section, and the node's meta as TXT there too.
  void srv_answers(const std::vector<Instance>& entries, std::uint32_t ttl) {
    std::set<std::tuple<std::string, std::string, int>> seen;
    std::set<std::string> extra_seen;
    for (const auto& e : entries) {
      const std::string& service_addr = e.service.address;
      if (!seen.emplace(e.service.node, service_addr, e.service.port).second) continue;
      std::string target;
      std::vector<Record> extra;
      auto service_ip = parse_ip(service_addr);
      auto node_ip = parse_ip(e.node_address);
      const bool use_node =
          (service_addr.empty() && node_ip) || (!service_ip && !service_addr.empty() && node_ip &&
                                                lower_name(service_addr) == lower_name(qname_));
      if (use_node) {
        target = node_target(e.service.node);
        if (auto r = ip_record(target, *node_ip, wire::type::kAny, ttl)) extra.push_back(*r);
      } else if (service_ip) {
        target = hex_of(*service_ip) + ".addr." + target_dc_ + "." + resp_domain_;
        if (auto r = ip_record(target, *service_ip, wire::type::kAny, ttl)) extra.push_back(*r);
      } else {
        const std::string& host = service_addr.empty() ? e.node_address : service_addr;
        if (host.empty()) continue;
        target = lower_name(host);
        extra = host_records(host, ttl);
      }
      Record r;
      r.name = qname_;
      r.type = wire::type::kSrv;
      r.ttl = ttl;
      int weight = e.warning ? e.service.weights.warning : e.service.weights.passing;
      r.rdata = wire::SrvRdata{1, static_cast<std::uint16_t>(std::clamp(weight, 0, 65535)),
                               static_cast<std::uint16_t>(e.service.port), target};
      resp_->answers.push_back(std::move(r));
      if (extra_seen.insert(target).second) {
        for (auto& x : extra) resp_->additional.push_back(std::move(x));
        if (config_.node_meta_txt) {
          txt_meta(node_target(e.service.node), e.node_meta, ttl, resp_->additional);
        }
      }
    }
    finish();
  }

  // A/AAAA/ANY: the instances' IPs of the asked family; a CNAME (and what it resolves to)
  // only when no instance has an IP address (Consul's addServiceNodeRecordsToMessage).
  void address_answers(const std::vector<Instance>& entries, std::uint32_t ttl) {
    std::set<std::string> seen;
    std::vector<Record> first_cname;
    std::size_t count = 0;
    for (const auto& e : entries) {
      const std::string& service_addr = e.service.address;
      auto service_ip = parse_ip(service_addr);
      auto node_ip = parse_ip(e.node_address);
      std::optional<Ip> ip;
      if (service_addr.empty() && node_ip) {
        ip = node_ip;
      } else if (service_ip) {
        ip = service_ip;
      } else if (!service_addr.empty() && node_ip &&
                 lower_name(service_addr) == lower_name(qname_)) {
        ip = node_ip;
      }
      if (ip) {
        auto r = ip_record(qname_, *ip, qtype_, ttl);
        if (!r || !seen.insert(hex_of(*ip)).second) continue;
        resp_->answers.push_back(std::move(*r));
        if (config_.a_record_limit > 0 && ++count >= config_.a_record_limit) break;
        continue;
      }
      const std::string& host = service_addr.empty() ? e.node_address : service_addr;
      if (host.empty() || !first_cname.empty() || !seen.insert(lower_name(host)).second) continue;
      first_cname.push_back(cname(qname_, host, ttl));
      for (auto& r : host_records(host, ttl)) first_cname.push_back(std::move(r));
    }
    if (resp_->answers.empty()) resp_->answers = std::move(first_cname);
    finish();
  }

  void node_lookup(const std::string& name) {
    auto node = snap_.node_get(name);
    if (!node || !node_readable(node->node)) return not_found();
    const bool txt = qtype_ == wire::type::kTxt;
    const bool any = qtype_ == wire::type::kAny;
    if (!txt && !any && qtype_ != wire::type::kA && qtype_ != wire::type::kAaaa) return finish();
    if (!txt) node_address_records(node->address, qname_, qtype_, config_.node_ttl, resp_->answers);
    if (config_.node_meta_txt || txt || any) {
      txt_meta(qname_, node->meta, config_.node_ttl,
               txt || any ? resp_->answers : resp_->additional);
    }
    finish();
  }

  void addr_lookup(const Labels& parts) {
    if (parts.size() != 1) return not_found();
    auto ip = ip_from_hex(parts[0]);
    if (!ip) return not_found();
    if (auto r = ip_record(qname_, *ip, qtype_, config_.node_ttl)) {
      resp_->answers.push_back(std::move(*r));
    }
    finish();
  }

  // The address a reverse name stands for: a.b.c.d.in-addr.arpa. (RFC 1035 3.5) or 32
  // nibbles under ip6.arpa. (RFC 3596 2.5), least significant first.
  static std::optional<Ip> reverse_ip(const Labels& labels) {
    if (labels.size() == 6 && label_equal(labels[4], "in-addr")) {
      std::string text = labels[3] + "." + labels[2] + "." + labels[1] + "." + labels[0];
      auto ip = parse_ip(text);
      if (!ip || ip->v6) return std::nullopt;
      return ip;
    }
    if (labels.size() == 34 && label_equal(labels[32], "ip6")) {
      std::string hex;
      for (std::size_t i = 32; i-- > 0;) {
        if (labels[i].size() != 1) return std::nullopt;
        hex += labels[i];
      }
      return ip_from_hex(hex);
    }
    return std::nullopt;
  }

  static bool same_ip(const std::string& text, const Ip& ip) {
    auto other = parse_ip(text);
    return other && other->v6 == ip.v6 && other->bytes == ip.bytes;
  }

  // PTR: the first node with the address, else the first service instance with it as its
  // own address (Consul's handlePtr); unknown addresses go to the recursors when configured.
  void ptr_lookup(const Labels& labels) {
    resp_domain_ = domain_;  // reverse answers name the primary domain
    auto ip = reverse_ip(labels);
    std::optional<std::string> target;
    if (ip) {
      for (const auto& node : snap_.node_list()) {
        if (same_ip(node.address, *ip) && node_readable(node.node)) {
          target = node_target(node.node);
          break;
        }
      }
      if (!target) {
        for (const auto& [name, tags] : snap_.service_names()) {
          for (const auto& s : snap_.service_instances(name)) {
            if (same_ip(s.address, *ip) && instance_readable(s)) {
              target = s.service + ".service." + config_.datacenter + "." + domain_;
              break;
            }
          }
          if (target) break;
        }
      }
    }
    if (!target) {
      if (config_.recursion_available) {
        out_->forward = true;
        return;
      }
      return not_found();
    }
    if (qtype_ == wire::type::kPtr || qtype_ == wire::type::kAny) {
      Record r;
      r.name = qname_;
      r.type = wire::type::kPtr;
      r.ttl = config_.node_ttl;
      r.rdata = wire::PtrRdata{std::move(*target)};
      resp_->answers.push_back(std::move(r));
    }
    finish();
  }

  const Message& query_;
  const state::Snapshot& snap_;
  const ResolverConfig& config_;
  core::Rand& rand_;
  const ExternalRecords* external_;
  const acl::Authorizer* authz_;  // null: ACLs off
  const int depth_;
  const PreparedQueryAnswer* query_answer_;
  std::string target_dc_;  // the datacenter SRV targets name: the answer's
  Message* resp_ = nullptr;
  Resolution* out_ = nullptr;
  std::string qname_;
  std::string domain_;       // the configured domain, lower case
  std::string resp_domain_;  // the domain (or alt domain) the question asked in
  std::uint16_t qtype_ = 0;
};

}  // namespace

std::uint32_t service_ttl_for(const ResolverConfig& config, const std::string& name) {
  if (auto it = config.service_ttls.find(name); it != config.service_ttls.end()) {
    return it->second;
  }
  std::size_t best = 0;
  std::optional<std::uint32_t> ttl;
  for (const auto& [key, value] : config.service_ttls) {
    if (key.empty() || key.back() != '*') continue;
    std::string_view prefix(key.data(), key.size() - 1);
    if (!std::string_view(name).starts_with(prefix)) continue;
    if (!ttl || prefix.size() >= best) {
      best = prefix.size();
      ttl = value;
    }
  }
  return ttl.value_or(config.service_ttl);
}

void trim_udp_answers(const wire::Message& query, wire::Message& resp,
                      const ResolverConfig& config) {
  if (config.udp_answer_limit == 0 || resp.answers.size() <= config.udp_answer_limit) return;
  if (query.edns && query.edns->udp_payload_size > wire::kMaxUdpSize) return;
  resp.answers.resize(config.udp_answer_limit);
  std::set<std::string> targets;
  for (const auto& r : resp.answers) {
    if (const auto* srv = std::get_if<wire::SrvRdata>(&r.rdata)) targets.insert(srv->target);
  }
  std::erase_if(resp.additional, [&](const Record& r) {
    return r.type != wire::type::kOpt && targets.count(r.name) == 0;
  });
  if (config.enable_truncate) resp.header.tc = true;
}

Resolution resolve_full(const wire::Message& query, const state::Snapshot& snap,
                        const ResolverConfig& config, core::Rand& rand, bool udp,
                        const ExternalRecords* external, const acl::Authorizer* authz,
                        const PreparedQueryAnswer* query_answer) {
  Resolution out = Resolver(query, snap, config, rand, external, authz, 0, query_answer).run();
  if (udp && !out.forward) trim_udp_answers(query, out.response, config);
  return out;
}

wire::Message resolve(const wire::Message& query, const state::Snapshot& snap,
                      const ResolverConfig& config, core::Rand& rand, bool udp) {
  return resolve_full(query, snap, config, rand, udp, nullptr).response;
}

bool stale_answer_allowed(const ResolverConfig& config, bool known_leader,
                          std::uint64_t last_contact_ms) {
  if (!known_leader) return false;
  if (last_contact_ms == 0) return true;  // this server is the leader
  return config.allow_stale && last_contact_ms <= config.max_stale_ms;
}

}  // namespace pc::dns
