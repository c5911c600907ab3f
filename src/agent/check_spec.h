#pragma once
// How the agent runs one check: Consul's structs.CheckType, the part of a check definition
// that is not replicated. The replicated part (name, status, output, service) is the
// state::HealthCheck row the check writes into the catalog.
//
// Plain data; copy freely.
#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace pc::agent {

enum class CheckKind {
  kTtl,     // the application reports status through the agent API before the TTL runs out
  kHttp,    // GET (or Method) on a URL every Interval
  kTcp,     // a TCP connect every Interval
  kScript,  // runs Args every Interval; only with enable_script_checks
  kGrpc,    // grpc.health.v1.Health/Check on GRPC every Interval
  kAlias,   // mirrors another service instance or node (AliasService / AliasNode)
  kManual,  // no runner: maintenance checks the agent sets itself
};

struct CheckSpec {
  CheckKind kind = CheckKind::kTtl;
  core::Duration interval{0};
  core::Duration timeout{0};  // 0: the probe's default (10s HTTP/TCP, 30s script)
  core::Duration ttl{0};
  // > 0: the service of this check is removed after the check has been critical this long.
  core::Duration deregister_critical_service_after{0};

  std::string http;
  std::string method;  // "" = GET
  std::map<std::string, std::vector<std::string>> header;
  std::string body;
  bool tls_skip_verify = false;
  std::string tls_server_name;
  bool disable_redirects = false;

  std::string tcp;
  std::vector<std::string> args;  // script checks

  std::string grpc;  // "host:port[/service]"
  bool grpc_use_tls = false;

  std::string alias_node;     // "" = a service of this agent
  std::string alias_service;  // a service instance ID

  bool operator==(const CheckSpec&) const = default;
};

// Consul's CheckType.Validate, with its texts: the kind follows from which fields are set
// (Args → script, HTTP → http, TCP → tcp, GRPC → grpc, AliasNode/AliasService → alias,
// otherwise TTL), an interval check needs an
// Interval, a TTL check a TTL, never both. Sets `spec.kind`.
core::Status classify_and_validate(CheckSpec& spec);

// Consul's check "Type" field for the kind: "ttl", "http", "tcp", "script", "grpc", "alias", or "".
const char* check_type_name(CheckKind kind);

// Consul's lower bound on check intervals (checks.MinInterval); shorter ones are raised to it.
inline constexpr core::Duration kMinCheckInterval = std::chrono::seconds(1);
// Consul's check output limit (checks.BufSize).
inline constexpr std::size_t kCheckOutputMax = 4 * 1024;

}  // namespace pc::agent
