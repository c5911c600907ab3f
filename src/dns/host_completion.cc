#include "dns/host_completion.h"

#include <algorithm>
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

// Whether `name` is `domain` or lies under it ("" is no domain).
bool under(const wire::Labels& name, const std::string& domain) {
  if (domain.empty()) return false;
  auto labels = wire::parse_name(domain);
  if (!labels || labels->empty() || labels->size() > name.size()) return false;
  const std::size_t offset = name.size() - labels->size();
  for (std::size_t i = 0; i < labels->size(); ++i) {
    if (!core::iequals(name[offset + i], (*labels)[i])) return false;
  }
  return true;
}

// A name the recursors answer for: a valid name other than the root, outside the domains.
// Names inside them were resolved by whoever built the answer, from the catalog.
bool outside_domains(const std::string& host, const ResolverConfig& config) {
  auto labels = wire::parse_name(host);
  if (!labels || labels->empty()) return false;
  return !under(*labels, config.domain) && !under(*labels, config.alt_domain);
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

  // The records to add for `host`, named by a record with `ttl`; none when it needs none,
  // was handled already, or is not known yet (then it is listed as missing).
  std::vector<Record> records_for(const std::string& target, std::uint32_t ttl) {
    const std::string host = host_key(target);
    if (!outside_domains(host, config_) || !handled_.insert(host).second) return {};
    if (external_ != nullptr) {
      if (auto it = external_->find(host); it != external_->end()) {
        return host_records_of(it->second, ttl, edns_);
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
      for (Record& x : records_for(cname->name, r.ttl)) out.push_back(std::move(x));
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
      for (Record& x : records_for(srv->target, r.ttl)) additional.push_back(std::move(x));
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
