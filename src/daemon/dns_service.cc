#include "daemon/dns_service.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

#include "acl/builtin.h"
#include "core/duration.h"
#include "core/log.h"
#include "core/strings.h"
#include "dns/wire/message.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "dns";

std::uint32_t ttl_seconds(const std::string& text) {
  auto d = core::parse_go_duration(text);
  if (!d || d->count() <= 0) return 0;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(*d).count();
  return static_cast<std::uint32_t>(std::min<std::int64_t>(secs, 0x7fffffff));
}

std::chrono::milliseconds millis(const std::string& text, std::chrono::milliseconds fallback) {
  auto d = core::parse_go_duration(text);
  if (!d || d->count() <= 0) return fallback;
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

dns::Resolution server_failure(const dns::wire::Message& query) {
  dns::Resolution failed;
  failed.response.header.id = query.header.id;
  failed.response.header.qr = true;
  failed.response.header.opcode = query.header.opcode;
  failed.response.header.rd = query.header.rd;
  failed.response.header.rcode = dns::wire::rcode::kServFail;
  failed.response.questions = query.questions;
  failed.cacheable = false;
  return failed;
}

// The settings a question from another agent is answered with: the asker's, except what only
// this server knows (its datacenter, its node).
std::shared_ptr<const dns::ResolverConfig> asker_config(const dns::ResolverConfig& own,
                                                        const dns::ResolverConfig& asker) {
  auto config = std::make_shared<dns::ResolverConfig>(asker);
  config->datacenter = own.datacenter;
  config->node_name = own.node_name;
  return config;
}

}  // namespace

dns::ResolverConfig resolver_config_of(const core::AgentConfig& config,
                                       const std::string& node_name) {
  const core::DnsConfig& d = config.dns_config;
  dns::ResolverConfig r;
  r.domain = config.domain;
  r.alt_domain = config.alt_domain;
  r.datacenter = config.datacenter;
  r.node_name = node_name;
  r.node_ttl = ttl_seconds(d.node_ttl);
  for (const auto& [name, ttl] : d.service_ttl) r.service_ttls[name] = ttl_seconds(ttl);
  r.only_passing = d.only_passing;
  r.a_record_limit = static_cast<std::size_t>(d.a_record_limit);
  r.udp_answer_limit = static_cast<std::size_t>(d.udp_answer_limit);
  r.enable_truncate = d.enable_truncate;
  r.soa_refresh = static_cast<std::uint32_t>(d.soa.refresh);
  r.soa_retry = static_cast<std::uint32_t>(d.soa.retry);
  r.soa_expire = static_cast<std::uint32_t>(d.soa.expire);
  r.soa_min_ttl = static_cast<std::uint32_t>(d.soa.min_ttl);
  r.node_meta_txt = d.enable_additional_node_meta_txt;
  r.recursion_available = !config.recursors.empty();
  r.allow_stale = d.allow_stale;
  r.max_stale_ms = static_cast<std::uint64_t>(
      millis(d.max_stale, std::chrono::milliseconds(r.max_stale_ms)).count());
  return r;
}

dns::DnsServer::Recursors recursors_of(const core::AgentConfig& config) {
  dns::DnsServer::Recursors r;
  for (const std::string& text : config.recursors) {
    // Validated at load: every entry parses.
    if (auto a = core::parse_recursor_address(text)) r.servers.emplace_back(a->ip, a->port);
  }
  r.timeout = millis(config.dns_config.recursor_timeout, std::chrono::seconds(2));
  r.random_order = config.dns_config.recursor_strategy == "random";
  return r;
}

DnsService::DnsService(state::Store& store, const consensus::Log& log,
                       const core::AgentConfig& config, std::string node_name, AskServer remote)
    : store_(store),
      log_(log),
      node_name_(std::move(node_name)),
      port_(config.ports.dns),
      addresses_(core::client_addresses(config)),
      domain_(config.domain),
      alt_domain_(config.alt_domain),
      config_(std::make_shared<const dns::ResolverConfig>(resolver_config_of(config, node_name_))),
      recursors_(recursors_of(config)),
      remote_(std::move(remote)) {
  for (std::string zone :
       {domain_, alt_domain_, std::string("in-addr.arpa."), std::string("ip6.arpa.")}) {
    if (zone.empty()) continue;
    if (!zone.ends_with('.')) zone += '.';
    remote_zones_.push_back("." + core::to_lower(zone));
  }
}

DnsService::~DnsService() {
  stop();
}

// Whether a server answers `query` for a client agent: names in the agent's domains, and
// reverse lookups (the catalog's addresses).
bool DnsService::for_servers(const dns::wire::Message& query) const {
  if (query.questions.empty()) return false;
  const std::string name = core::to_lower(query.questions.front().name);
  for (const std::string& zone : remote_zones_) {
    // `zone` is ".domain.": the name is the domain itself or under it.
    if (name.ends_with(zone) || name == std::string_view(zone).substr(1)) return true;
  }
  return false;
}

void DnsService::set_acl(const endpoints::AclResolver* acl, const endpoints::AgentTokens* tokens) {
  acl_ = acl;
  tokens_ = tokens;
}

dns::Resolution DnsService::answer(const dns::wire::Message& query, bool tcp,
                                   const dns::ExternalRecords* external, const std::string* token,
                                   const std::shared_ptr<const dns::ResolverConfig>& config) {
  if (remote_ && for_servers(query)) {
    dns::Resolution remote;
    remote.remote = true;
    remote.cacheable = false;
    // The server cannot reach this agent's recursors: host names are looked up here.
    remote.complete_with = config;
    return remote;
  }
  const consensus::LeaderInfo leader = log_.leader();
  if (!dns::stale_answer_allowed(*config, leader.known_leader, leader.last_contact_ms)) {
    return server_failure(query);
  }
  acl::AuthorizerPtr authz;
  if (acl_ != nullptr && acl_->enabled()) {
    std::string secret = token != nullptr ? *token : (tokens_ ? tokens_->dns_token() : "");
    // An empty secret is the anonymous token here, never the server's own default token: a
    // client agent without a token asked, or this agent has none for DNS.
    if (secret.empty()) secret = std::string(acl::kAnonymousTokenSecretId);
    auto who = acl_->resolve(secret);
    if (!who) {
      // Consul answers SERVFAIL when the catalog read fails, as it does for a token that is
      // not found (deleted or expired).
      core::log::debug(kModule, "DNS token: {}", who.error().message);
      return server_failure(query);
    }
    authz = std::move(who->authz);
  }
  dns::Resolution resolution =
      dns::resolve_full(query, store_.snapshot(), *config, rand_, !tcp, external, authz.get());
  if (!resolution.other_datacenter.empty() && dc_forwarding_.ask) {
    // Whether that datacenter is reachable changes with the WAN pool, not the store.
    resolution.cacheable = false;
    if (dc_forwarding_.has_servers(resolution.other_datacenter)) resolution.remote = true;
    resolution.complete_with = config;  // host names through this agent's recursors
    return resolution;
  }
  if (resolution.prepared_query.empty()) return resolution;
  if (query_runner_) {
    resolution.remote = true;           // answered by answer_later, once the query has run
    resolution.complete_with = config;  // host names through this agent's recursors
    return resolution;
  }
  dns::PreparedQueryAnswer none;
  return dns::resolve_full(query, store_.snapshot(), *config, rand_, !tcp, external, authz.get(),
                           &none);
}

void DnsService::answer_later(std::vector<std::uint8_t> query, bool tcp,
                              std::shared_ptr<const dns::ResolverConfig> config,
                              dns::DnsServer::Options::RemoteDone done) {
  auto decoded = dns::wire::decode(query);
  if (!decoded || !query_runner_) {
    if (remote_) return remote_(std::move(query), tcp, std::move(config), std::move(done));
    return done(std::nullopt);
  }
  dns::Resolution first =
      dns::resolve_full(*decoded, store_.snapshot(), *config, rand_, !tcp, nullptr);
  if (first.prepared_query.empty()) {
    if (remote_) return remote_(std::move(query), tcp, std::move(config), std::move(done));
    return done(std::nullopt);
  }
  auto message = std::make_shared<dns::wire::Message>(std::move(*decoded));
  query_runner_(first.prepared_query, [this, message, tcp, config,
                                       done = std::move(done)](dns::PreparedQueryAnswer answer) {
    dns::Resolution r = dns::resolve_full(*message, store_.snapshot(), *config, rand_, !tcp,
                                          nullptr, nullptr, &answer);
    auto encoded = dns::wire::encode(r.response, dns::response_size_max(*message, tcp));
    if (!encoded) return done(std::nullopt);
    done(std::move(encoded->bytes));
  });
}

void DnsService::answer_async(std::span<const std::uint8_t> query, bool tcp,
                              const std::string& token, const dns::ResolverConfig* options,
                              dns::DnsServer::Options::RemoteDone done) {
  auto decoded = dns::wire::decode(query);
  if (!decoded || decoded->header.qr) {
    done(std::nullopt);
    return;
  }
  std::shared_ptr<const dns::ResolverConfig> config = config_.load();
  if (options != nullptr) {
    config = asker_config(*config, *options);
    if (ask_leader(query, tcp, token, *config, done)) return;
  }
  dns::Resolution resolution = answer(*decoded, tcp, nullptr, &token, config);
  if (resolution.remote && !resolution.other_datacenter.empty()) {
    dc_forwarding_.ask(resolution.other_datacenter,
                       std::vector<std::uint8_t>(query.begin(), query.end()), tcp, token,
                       std::move(config), std::move(done));
    return;
  }
  if (resolution.remote && !resolution.prepared_query.empty()) {
    // A prepared query asked through a client agent or another datacenter: run it here.
    answer_later(std::vector<std::uint8_t>(query.begin(), query.end()), tcp, std::move(config),
                 std::move(done));
    return;
  }
  if (resolution.forward && options != nullptr) {
    // The asker has recursors (its settings say so, or nothing is forwarded): an empty
    // answer tells it to ask them (DnsServer::Options::RemoteDone). Agents that send no
    // settings predate that, and get nullopt (SERVFAIL) as before.
    done(std::vector<std::uint8_t>{});
    return;
  }
  if (resolution.forward || resolution.remote) {
    done(std::nullopt);
    return;
  }
  auto encoded = dns::wire::encode(resolution.response, dns::response_size_max(*decoded, tcp));
  if (!encoded) {
    done(std::nullopt);
    return;
  }
  done(std::move(encoded->bytes));
}

bool DnsService::ask_leader(std::span<const std::uint8_t> query, bool tcp, const std::string& token,
                            const dns::ResolverConfig& config,
                            dns::DnsServer::Options::RemoteDone& done) {
  if (!leader_forwarding_) return false;
  const consensus::LeaderInfo leader = log_.leader();
  if (!leader.known_leader ||
      dns::stale_answer_allowed(config, leader.known_leader, leader.last_contact_ms)) {
    return false;
  }
  // The leader may answer from its own state whatever the settings say; allowing any
  // staleness keeps a server that lost leadership meanwhile from passing it on again.
  auto relaxed = std::make_shared<dns::ResolverConfig>(config);
  relaxed->allow_stale = true;
  relaxed->max_stale_ms = std::numeric_limits<std::uint64_t>::max();
  return leader_forwarding_(std::vector<std::uint8_t>(query.begin(), query.end()), tcp, token,
                            std::move(relaxed), done);
}

core::Result<std::uint16_t> DnsService::start() {
  std::uint16_t port = static_cast<std::uint16_t>(port_);
  for (const std::string& address : addresses_) {
    dns::DnsServer::Options options;
    options.address = address;
    options.port = port;  // the first server's port for the others
    if (query_runner_) {
      options.remote = [this](std::vector<std::uint8_t> q, bool tcp,
                              dns::DnsServer::Options::RemoteDone done) {
        answer_later(std::move(q), tcp, config_.load(), std::move(done));
      };
    } else if (remote_) {
      // A server answers with this agent's settings as they are now (reload applies at once).
      options.remote = [this](std::vector<std::uint8_t> q, bool tcp,
                              dns::DnsServer::Options::RemoteDone done) {
        remote_(std::move(q), tcp, config_.load(), std::move(done));
      };
    }
    if (dc_forwarding_.ask) {
      // Questions asked of this agent go to the other datacenter with the agent's DNS token.
      options.remote_dc = [this](const std::string& dc, std::vector<std::uint8_t> query, bool tcp,
                                 dns::DnsServer::Options::RemoteDone done) {
        const std::string token = tokens_ != nullptr ? tokens_->dns_token() : "";
        dc_forwarding_.ask(dc, std::move(query), tcp, token, config_.load(), std::move(done));
      };
    }
    // Cached answers stay valid until the next write is applied; none are served while this
    // agent may not answer from its own state (then every query takes the path that says so).
    options.cache_generation = [this]() -> std::uint64_t {
      std::shared_ptr<const dns::ResolverConfig> config = config_.load();
      const consensus::LeaderInfo leader = log_.leader();
      if (!dns::stale_answer_allowed(*config, leader.known_leader, leader.last_contact_ms)) {
        return 0;
      }
      // The reload count in the top 16 bits: answers built with older settings miss. A change
      // of the agent's tokens counts as one, so an answer built for one DNS token is never
      // served once another is set (changes to ACL objects are writes to the log).
      const std::uint64_t token_changes = tokens_ != nullptr ? tokens_->version() : 0;
      const std::uint64_t reloads = (reloads_.load() + token_changes) & 0xffff;
      return (reloads << 48) | ((log_.applied_index() + 1) & ((std::uint64_t{1} << 48) - 1));
    };
    auto server = std::make_unique<dns::DnsServer>(
        options, [this](const dns::wire::Message& q, bool tcp, const dns::ExternalRecords* e) {
          return answer(q, tcp, e, nullptr, config_.load());
        });
    server->set_recursors(recursors_);
    auto bound = server->start();
    if (!bound) {
      stop();
      return bound.error();
    }
    port = *bound;
    servers_.push_back(std::move(server));
  }
  return port;
}

void DnsService::reload(const core::AgentConfig& config) {
  core::AgentConfig kept = config;
  kept.domain = domain_;
  kept.alt_domain = alt_domain_;
  config_.store(std::make_shared<const dns::ResolverConfig>(resolver_config_of(kept, node_name_)));
  reloads_.fetch_add(1);  // after the store: a generation with the new count sees new settings
  recursors_ = recursors_of(config);
  for (auto& server : servers_) {
    server->set_recursors(recursors_);
    server->clear_cache();
  }
  core::log::debug(kModule, "reloaded dns_config ({} recursors)", recursors_.servers.size());
}

void DnsService::stop() {
  for (auto& server : servers_) server->stop();
  servers_.clear();
}

}  // namespace pc::daemon
