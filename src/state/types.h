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
enum class Table : std::uint8_t { kKvs = 0, kTombstones = 1, kSessions = 2, kNodes = 3 };
inline constexpr std::size_t kTableCount = 4;

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

}  // namespace pc::state
