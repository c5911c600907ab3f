#pragma once
// A prepared query as the replicated table holds it and Consul's API shows it
// (structs.PreparedQuery, with ServiceQuery, QueryFailover, QueryTemplateOptions and
// QueryDNSOptions). Field comments give Consul's JSON names. Templates are stored as given;
// endpoints/query_template.h compiles and renders them (state/ sits below that code).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pc::state {

// Consul's only template type.
inline constexpr const char* kQueryTemplateNamePrefixMatch = "name_prefix_match";

struct QueryFailover {
  int nearest_n = 0;                     // NearestN: try this many datacenters by RTT
  std::vector<std::string> datacenters;  // Datacenters: then these, in order
  bool operator==(const QueryFailover&) const = default;
};

struct ServiceQuery {
  std::string service;                              // Service
  QueryFailover failover;                           // Failover
  bool only_passing = false;                        // OnlyPassing: warning counts as unhealthy
  std::vector<std::string> ignore_check_ids;        // IgnoreCheckIDs
  std::string near;                                 // Near: a node, "_agent" or "_ip"
  std::vector<std::string> tags;                    // Tags: all required; "!tag" forbidden
  std::map<std::string, std::string> node_meta;     // NodeMeta
  std::map<std::string, std::string> service_meta;  // ServiceMeta
  bool connect = false;                             // Connect.Enabled
  bool operator==(const ServiceQuery&) const = default;
};

struct QueryTemplate {
  std::string type;                // Type: "" (not a template) or name_prefix_match
  std::string regexp;              // Regexp: its groups are ${match(N)}
  bool remove_empty_tags = false;  // RemoveEmptyTags
  bool operator==(const QueryTemplate&) const = default;
};

struct PreparedQuery {
  std::string id;                  // ID (a UUID)
  std::string name;                // Name: unique, case ignored; "" for session-bound queries
  std::string session;             // Session: the query is deleted with it
  std::string token;               // Token: executes with this token instead of the caller's
  QueryTemplate tmpl;              // Template
  ServiceQuery service;            // Service
  std::string dns_ttl;             // DNS.TTL (Go duration text)
  std::uint64_t create_index = 0;  // CreateIndex
  std::uint64_t modify_index = 0;  // ModifyIndex
  bool is_template() const { return !tmpl.type.empty(); }
  bool operator==(const PreparedQuery&) const = default;
};

}  // namespace pc::state
