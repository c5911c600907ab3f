#include "dns/host_completion.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/strings.h"
#include "dns/wire/name.h"

namespace pc::dns {
namespace {

using wire::Record;

// The key ExternalRecords and Resolution::external_names use: lower case, fully qualified.
std::string host_key(std::string_view name) {
  std::string out = core::to_lower(name);
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

// How many labels of `name` lie before `domain` when it is that domain or under it.
std::optional<std::size_t> prefix_in(const wire::Labels& name, const std::string& domain) {
  if (domain.empty()) return std::nullopt;
  auto labels = wire::parse_name(domain);
  if (!labels || labels->empty() || labels->size() > name.size()) return std::nullopt;
  const std::size_t offset = name.size() - labels->size();
  for (std::size_t i = 0; i < labels->size(); ++i) {
    if (!core::iequals(name[offset + i], (*labels)[i])) return std::nullopt;
  }
  return offset;
}

// The labels of `name` before the domain or alt domain it lies in (the shorter prefix when
// both match); nullopt outside them.
std::optional<std::size_t> prefix_in_domains(const wire::Labels& name,
                                             const ResolverConfig& config) {
  auto a = prefix_in(name, config.domain);
  auto b = prefix_in(name, config.alt_domain);
  if (a && b) return std::min(*a, *b);
  return a ? a : b;
}

// A name the recursors answer for: a valid name other than the root, outside the domains.
// Names inside them were resolved by whoever built the answer, from the catalog.
bool outside_domains(const std::string& host, const ResolverConfig& config) {
  auto labels = wire::parse_name(host);
  if (!labels || labels->empty()) return false;
  return !prefix_in_domains(*labels, config).has_value();
}

// Whether `owner` names a node (NODE.node[.DC].DOMAIN: the rightmost lookup kind label is
// "node", as the resolver reads names). A node's host records stand as the recursors gave
// them, while a service's take the answer's TTL and are capped: the resolver builds them so
// (Consul's makeRecordFromNode and makeRecordFromFQDN).
bool names_a_node(const std::string& owner, const ResolverConfig& config) {
  auto labels = wire::parse_name(owner);
  if (!labels) return false;
  auto prefix = prefix_in_domains(*labels, config);
  if (!prefix) return false;
  for (std::size_t i = *prefix; i-- > 0;) {
    const std::string& label = (*labels)[i];
    if (core::iequals(label, "node")) return true;
    if (core::iequals(label, "service") || core::iequals(label, "addr") ||
        core::iequals(label, "query")) {
      return false;
    }
  }
  return false;
}

bool has_records_for(const std::vector<Record>& section, const std::string& host) {
  return std::any_of(section.begin(), section.end(),
                     [&](const Record& r) { return wire::names_equal(r.name, host); });
}

// One pass over an answer: which hosts want records, and the records for those `external`
// knows.
class Completion {
 public:
  Completion(const ResolverConfig& config, const ExternalRecords* external, bool edns,
             std::vector<std::string>& missing)
      : config_(config), external_(external), edns_(edns), missing_(missing) {}

  // The records to add for `target`, named by `by`; none when it needs none, was handled
  // already, or is not known yet (then it is listed as missing).
  std::vector<Record> records_for(const std::string& target, const Record& by) {
    const std::string host = host_key(target);
    if (!outside_domains(host, config_) || !handled_.insert(host).second) return {};
    if (external_ != nullptr) {
      if (auto it = external_->find(host); it != external_->end()) {
        if (names_a_node(by.name, config_)) return it->second;
        return host_records_of(it->second, by.ttl, edns_);
      }
    }
    if (config_.recursion_available) missing_.push_back(host);
    return {};
  }

  // Each CNAME of `section` whose target has no record there is followed by the target's.
  // Starts a section: a host handled in another one is handled again here.
  void cnames(std::vector<Record>& section) {
    handled_.clear();
    std::vector<Record> out;
    out.reserve(section.size());
    for (const Record& r : section) {
      out.push_back(r);
      const auto* cname = std::get_if<wire::CnameRdata>(&r.rdata);
      if (r.type != wire::type::kCname || cname == nullptr) continue;
      if (has_records_for(section, cname->name)) continue;
      for (Record& x : records_for(cname->name, r)) out.push_back(std::move(x));
    }
    section = std::move(out);
  }

  // Each SRV answer's target without records in `additional` gets them there (after
  // cnames(additional): hosts handled there are not added twice).
  void srv_targets(const std::vector<Record>& answers, std::vector<Record>& additional) {
    for (const Record& r : answers) {
      const auto* srv = std::get_if<wire::SrvRdata>(&r.rdata);
      if (r.type != wire::type::kSrv || srv == nullptr) continue;
      if (has_records_for(additional, srv->target)) continue;
      for (Record& x : records_for(srv->target, r)) additional.push_back(std::move(x));
    }
  }

 private:
  const ResolverConfig& config_;
  const ExternalRecords* external_;
  const bool edns_;
  std::vector<std::string>& missing_;
  std::set<std::string> handled_;  // hosts of the current section added or asked for
};

}  // namespace

std::vector<Record> host_records_of(const std::vector<Record>& found, std::uint32_t ttl,
                                    bool edns) {
  std::vector<Record> out;
  for (const Record& r : found) {
    if (r.type != wire::type::kA && r.type != wire::type::kAaaa && r.type != wire::type::kCname) {
      continue;
    }
    out.push_back(r);
    out.back().ttl = ttl;
    if (!edns && out.size() >= kHostRecordsNoEdnsMax) break;
  }
  return out;
}

Resolution complete_hosts(const wire::Message& query, wire::Message answer,
                          const ResolverConfig& config, const ExternalRecords* external, bool udp) {
  Resolution out;
  out.cacheable = false;  // it depends on the recursors, not only on the store
  out.response = std::move(answer);
  wire::Message& m = out.response;
  if (m.header.rcode != wire::rcode::kNoError) return out;
  Completion completion(config, external, query.edns.has_value(), out.external_names);
  completion.cnames(m.answers);
  completion.cnames(m.additional);
  completion.srv_targets(m.answers, m.additional);
  auto& names = out.external_names;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (udp) trim_udp_answers(query, m, config);
  return out;
}

}  // namespace pc::dns
