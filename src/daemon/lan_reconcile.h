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
//            the Raft configuration (a server leaves the configuration first);
//   reaped → a catalog node with a serfHealth check that is no member of the pool at all
//            (the pool forgot it reconnect_timeout after it failed, or it was force-left
//            with prune) is deregistered, with the same two exceptions (Consul's
//            reconcileReaped). Nodes without serfHealth (registered through the catalog API,
//            external services) are never touched. Unlike Consul, only a node the leader's
//            pool saw and then forgot, or any once the pool has run for reconnect_timeout
//            (`pool_settled`): a leader whose pool has not yet joined the others knows
//            nobody, and must not take that for everyone having been reaped.
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

// A catalog node that carries a serfHealth check: a candidate for reaping when no member of
// the pool has its name.
struct SerfCheckedNode {
  std::string name;
  bool in_raft_configuration = false;  // its node ID is a voter or learner of the leader's
  bool seen_by_pool = false;           // the leader's pool had it as a member before
};

struct ReconcileInput {
  std::string datacenter;
  std::string self_name;  // the leader's own node: never deregistered by reconcile
  std::vector<ReconcileMember> members;
  std::map<std::string, CatalogNodeRow> catalog;  // by member name; missing: not registered
  std::vector<SerfCheckedNode> serf_nodes;        // every catalog node with serfHealth
  // The leader's pool has run for at least reconnect_timeout: any member that failed before
  // it started would have been reaped by now, so a node it never saw may be reaped too.
  bool pool_settled = false;
};

// The "consul" service a server's node carries (Consul's leader registers it for each
// server it sees alive), on the server's RPC port.
proto::Service consul_service(int server_port, const std::string& version);

// The commands that bring the catalog in line with the members, in member order, then the
// deregistrations of reaped nodes in serf_nodes order; empty when it already is.
std::vector<proto::Command> reconcile_commands(const ReconcileInput& input);

}  // namespace pc::daemon
