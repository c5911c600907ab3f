#pragma once
// What the Raft leader writes to the catalog for the members of the LAN gossip pool (Consul's
// leader: reconcileMember, handleAliveMember, handleFailedMember, handleLeftMember), as a pure
// function of the members and the catalog rows of their nodes:
//
//   alive  → the node is registered at the member's address with the check serfHealth
//            passing ("Agent alive and reachable"), and for a server the "consul" service
//            on its RPC port (clients find the servers through it); nothing when it already
//            is;
//   failed → serfHealth critical ("Agent not live or unreachable"), if the node is in the
//            catalog (Consul ignores a failed member it never registered); nothing when it
//            already is critical at the member's address;
//   left   → the node is deregistered, unless it is the leader itself or a server still in
//            the Raft configuration (a server leaves the configuration first).
//
// Members of another datacenter are ignored (Consul's LAN pool holds one). A node that is
// already registered keeps its meta and tagged addresses: the agent's anti-entropy owns
// them, so only the check is written (skip_node_update) unless the address moved.
//
// Pure: no I/O; the daemon's LanReconciler reads the inputs and submits the commands.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proto/commands.pb.h"

namespace pc::daemon {

inline constexpr const char* kSerfCheckId = "serfHealth";
inline constexpr const char* kSerfCheckName = "Serf Health Status";
inline constexpr const char* kSerfAliveOutput = "Agent alive and reachable";
inline constexpr const char* kSerfFailedOutput = "Agent not live or unreachable";

enum class MemberHealth { kAlive, kFailed, kLeft };

// One LAN member, as reconcile needs it (daemon/lan_members.h builds it from the pool).
struct ReconcileMember {
  std::string name;     // the node name
  std::string node_id;  // the "id" tag
  std::string address;  // IP, no port
  std::string datacenter;
  MemberHealth health = MemberHealth::kAlive;
  bool server = false;                 // role "consul"
  int server_port = 0;                 // a server's "port" tag: its RPC port
  std::string build;                   // the "build" tag
  bool in_raft_configuration = false;  // a server the leader's configuration names
};

// The catalog's row of a member's node (absent: not registered).
struct CatalogNodeRow {
  std::string id;
  std::string address;
  std::map<std::string, std::string> tagged_addresses;
  std::map<std::string, std::string> meta;
  std::optional<std::string> serf_status;  // the serfHealth check's status, if any
  std::optional<int> consul_service_port;  // the "consul" service's port, if registered
};

struct ReconcileInput {
  std::string datacenter;
  std::string self_name;  // the leader's own node: never deregistered by reconcile
  std::vector<ReconcileMember> members;
  std::map<std::string, CatalogNodeRow> catalog;  // by member name; missing: not registered
};

// The "consul" service a server's node carries (Consul's leader registers it for each
// server it sees alive), on the server's RPC port.
proto::Service consul_service(int server_port, const std::string& version);

// The commands that bring the catalog in line with the members, in member order; empty when
// it already is.
std::vector<proto::Command> reconcile_commands(const ReconcileInput& input);

}  // namespace pc::daemon
