#pragma once
// Rows of the replicated tables, with Consul's fields and index semantics.
// CreateIndex: the log index that created the row. ModifyIndex: the log index of its last
// change. LockIndex (KV): how many times the key has been acquired by a session.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pc::state {

// Tables with their own max index (Consul's "index" table). Append-only.
enum class Table : std::uint8_t {
  kKvs = 0,
  kTombstones = 1,
  kSessions = 2,
  kNodes = 3,
  kServices = 4,
  kChecks = 5,
  kCoordinates = 6,
  kAclTokens = 7,
  kAclPolicies = 8,
  kAclRoles = 9,
  kPreparedQueries = 10,
};
inline constexpr std::size_t kTableCount = 11;

struct DirEntry {
  std::string key;
  std::string value;  // raw bytes
  std::uint64_t flags = 0;
  std::string session;  // holder of the lock, "" when unlocked
  std::uint64_t lock_index = 0;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
  bool operator==(const DirEntry&) const = default;
};

struct ServiceCheckRef {
  std::string id;
  std::string ns;  // Consul's "Namespace", empty in the open-source edition
  bool operator==(const ServiceCheckRef&) const = default;
};

struct Session {
  std::string id;
  std::string name;
  std::string node;
  std::int64_t lock_delay_ns = 0;
  std::string behavior;  // "release" or "delete"
  std::string ttl;       // Go duration text, "" for no TTL
  std::vector<std::string> node_checks;
  std::vector<ServiceCheckRef> service_checks;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
  bool operator==(const Session&) const = default;
};

struct Node {
  std::string id;  // UUID
  std::string node;
  std::string address;
  std::string datacenter;
  std::map<std::string, std::string> tagged_addresses;
  std::map<std::string, std::string> meta;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
  bool operator==(const Node&) const = default;
};

// Consul's api.Health* check states.
inline constexpr const char* kHealthPassing = "passing";
inline constexpr const char* kHealthWarning = "warning";
inline constexpr const char* kHealthCritical = "critical";
inline constexpr const char* kHealthMaint = "maintenance";

struct Weights {
  int passing = 1;
  int warning = 1;
  bool operator==(const Weights&) const = default;
};

// One tagged address of a service (Consul's structs.ServiceAddress): unlike a node's tagged
// addresses, which are plain strings, each carries its own port.
struct ServiceAddress {
  std::string address;
  int port = 0;
  bool operator==(const ServiceAddress&) const = default;
};

// One service instance on one node (Consul's structs.ServiceNode without the node fields).
struct Service {
  std::string node;
  std::string id;
  std::string service;  // the name
  std::vector<std::string> tags;
  std::string address;
  std::map<std::string, ServiceAddress> tagged_addresses;  // "lan", "wan", "lan_ipv4", ...
  std::map<std::string, std::string> meta;
  int port = 0;
  Weights weights;
  bool enable_tag_override = false;
  std::string kind;  // "" for a typical service
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
  bool operator==(const Service&) const = default;
};

struct HealthCheck {
  std::string node;
  std::string check_id;
  std::string name;
  std::string status;  // kHealth*
  std::string notes;
  std::string output;
  std::string service_id;
  std::string service_name;
  std::vector<std::string> service_tags;
  std::string type;
  // The definition, as text (Go durations as given).
  std::string http;
  std::string tcp;
  std::string interval;
  std::string timeout;
  std::string deregister_critical_service_after;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
  bool operator==(const HealthCheck&) const = default;
};

// One node's Vivaldi network coordinate in one network segment (Consul's
// structs.Coordinate; the coordinates table is keyed by lower-cased node, then segment).
// Seconds, as serf's coordinate.Coordinate. Consul's rows carry no Raft indexes; the table
// index is what blocking reads use, modify_index is kept for dumps and snapshots.
struct CoordinateRow {
  std::string node;
  std::string segment;  // "" for the default segment
  std::vector<double> vec;
  double error = 0.0;
  double adjustment = 0.0;
  double height = 0.0;
  std::uint64_t modify_index = 0;
  bool operator==(const CoordinateRow&) const = default;
};

}  // namespace pc::state
