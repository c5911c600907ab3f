#pragma once
// The agent's DNS interface: one DnsServer per client address (all on the same port), the
// resolver's settings from the agent configuration, and their reload on SIGHUP.
//
// Lifecycle: construct, start() once, reload() any number of times, stop() once; all from the
// daemon's main thread. Queries are answered on the servers' I/O threads.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "consensus/log.h"
#include "core/config.h"
#include "core/rand.h"
#include "core/result.h"
#include "daemon/dns_call.h"
#include "dns/resolver.h"
#include "dns/server.h"
#include "endpoints/acl_resolver.h"
#include "endpoints/agent_tokens.h"
#include "state/store.h"

namespace pc::daemon {

// dns_config, domain, alt_domain and recursors as the resolver takes them.
dns::ResolverConfig resolver_config_of(const core::AgentConfig& config,
                                       const std::string& node_name);
dns::DnsServer::Recursors recursors_of(const core::AgentConfig& config);

class DnsService {
 public:
  // `remote`: on a client agent, asks a server; every question about the agent's domains
  // (and reverse lookups) goes there, with this agent's resolver settings for the server to
  // answer with (dns_options.h), other names to the agent's own recursors.
  DnsService(state::Store& store, const consensus::Log& log, const core::AgentConfig& config,
             std::string node_name, AskServer remote = {});
  ~DnsService();
  DnsService(const DnsService&) = delete;
  DnsService& operator=(const DnsService&) = delete;

  // ACLs (call before start(); both must outlive the service): answers leave out what the
  // agent's DNS token (AgentTokens::dns_token(), else anonymous) may not read. `acl` is null
  // on a client agent, whose servers resolve the token it sends along with each question.
  void set_acl(const endpoints::AclResolver* acl, const endpoints::AgentTokens* tokens);
  // Runs a prepared query for NAME.query names (the daemon binds endpoints::query_execute);
  // `done` once, from any thread. Without one, such names are NXDOMAIN. Set before start().
  using QueryRunner =
      std::function<void(std::string name, std::function<void(dns::PreparedQueryAnswer)> done)>;
  void set_query_runner(QueryRunner runner) { query_runner_ = std::move(runner); }

  // Listens on every client address; returns the port (the one chosen for port 0). On error
  // nothing is left listening.
  core::Result<std::uint16_t> start();
  // Takes the new dns_config and recursors for later queries. The domains, addresses and
  // port stay as started (as Consul, which needs a restart for those).
  void reload(const core::AgentConfig& config);
  void stop();

  const std::vector<std::string>& addresses() const { return addresses_; }

  // A server's way to other datacenters (daemon/dc_forward.h), set before start(): a question
  // naming a datacenter that has servers in the WAN pool (`has_servers`) is answered by one
  // of them (`ask`); one naming any other datacenter stays NXDOMAIN, as Consul answers a
  // datacenter it has no path to.
  struct DatacenterForwarding {
    std::function<bool(const std::string& datacenter)> has_servers;
    // The question, its transport, the ACL token it is asked with ("": anonymous there) and
    // the settings of the agent it was asked of, which the remote server answers with.
    std::function<void(const std::string& datacenter, std::vector<std::uint8_t> query, bool tcp,
                       const std::string& token, std::shared_ptr<const dns::ResolverConfig> options,
                       dns::DnsServer::Options::RemoteDone done)>
        ask;
  };
  void set_datacenter_forwarding(DatacenterForwarding forwarding) {
    dc_forwarding_ = std::move(forwarding);
  }
  // A server's way to its leader, set before start(): a client agent's question whose
  // settings refuse a stale answer from this follower (allow_stale off, or the leader heard
  // from longer ago than max_stale) is sent to the leader, as Consul's non-stale reads go
  // there; without it such a question is SERVFAIL. Gets the question, its transport, the
  // client's token and the settings to send; returns false, having sent nothing, when this
  // server leads or knows no leader.
  using LeaderForwarding =
      std::function<bool(std::vector<std::uint8_t> query, bool tcp, const std::string& token,
                         std::shared_ptr<const dns::ResolverConfig> options,
                         dns::DnsServer::Options::RemoteDone done)>;
  void set_leader_forwarding(LeaderForwarding forwarding) {
    leader_forwarding_ = std::move(forwarding);
  }
  // A server answering a client agent's query (client_rpc.h kRpcClientDns) with the client's
  // token ("": anonymous) and the client's resolver settings (`options`; null, from an agent
  // that sends none: this server's own). Of the asker's settings all but the datacenter and
  // node name apply: TTLs, only_passing, the answer limits and truncation, the SOA, the
  // domains, the RA bit, allow_stale / max_stale. `done` gets the encoded response sized for
  // the client's transport, or nullopt for a query that does not decode or is not this
  // server's to answer (the client then answers SERVFAIL); with `options`, an empty
  // response for a name the client's recursors answer (a reverse name the catalog does not
  // know, when the client has recursors). A question naming another
  // datacenter is asked there (set_datacenter_forwarding) with the same settings. `done` runs
  // once, maybe on another thread.
  void answer_async(std::span<const std::uint8_t> query, bool tcp, const std::string& token,
                    const dns::ResolverConfig* options, dns::DnsServer::Options::RemoteDone done);

 private:
  // `token`: the secret to answer with; null for this agent's own DNS token. `config`: the
  // settings to answer with (this agent's, or those of the agent that asked).
  dns::Resolution answer(const dns::wire::Message& query, bool tcp,
                         const dns::ExternalRecords* external, const std::string* token,
                         const std::shared_ptr<const dns::ResolverConfig>& config);
  bool for_servers(const dns::wire::Message& query) const;
  // Sends a client agent's question to the leader when `config` (the client's settings)
  // refuses this follower's stale answer; true when it went (`done` then runs with the
  // leader's answer).
  bool ask_leader(std::span<const std::uint8_t> query, bool tcp, const std::string& token,
                  const dns::ResolverConfig& config, dns::DnsServer::Options::RemoteDone& done);
  // Options::remote on this agent: prepared queries run here (answered with `config`), the
  // rest go to remote_.
  void answer_later(std::vector<std::uint8_t> query, bool tcp,
                    std::shared_ptr<const dns::ResolverConfig> config,
                    dns::DnsServer::Options::RemoteDone done);

  state::Store& store_;
  const consensus::Log& log_;
  const std::string node_name_;
  const int port_;
  std::vector<std::string> addresses_;
  // Domains as started: reload keeps them.
  std::string domain_;
  std::string alt_domain_;
  std::atomic<std::shared_ptr<const dns::ResolverConfig>> config_;
  std::atomic<std::uint64_t> reloads_{0};
  dns::DnsServer::Recursors recursors_;
  core::SystemRand rand_;
  std::vector<std::unique_ptr<dns::DnsServer>> servers_;
  AskServer remote_;
  QueryRunner query_runner_;
  DatacenterForwarding dc_forwarding_;
  LeaderForwarding leader_forwarding_;
  // Lower case, with leading and trailing dots: the zones a client agent's servers answer.
  std::vector<std::string> remote_zones_;
  const endpoints::AclResolver* acl_ = nullptr;
  const endpoints::AgentTokens* tokens_ = nullptr;
};

}  // namespace pc::daemon
