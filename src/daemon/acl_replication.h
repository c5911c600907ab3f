#pragma once
// A secondary datacenter's ACL replication (Consul's startACLReplication): one Replicator
// each for policies and roles, and for global tokens when acl.enable_token_replication is
// set, all running on this datacenter's Raft leader; their combined status is what
// /v1/acl/replication shows (Consul's ACLReplicationStatus).
//
// Lifecycle: construct, start() once, stop() once before the log and the context go.
// Thread-safe: acl_replication_status() from any thread.
#include <memory>
#include <vector>

#include "daemon/replicator.h"
#include "endpoints/acl_replication.h"

namespace pc::daemon {

class AclReplication : public endpoints::AclReplicationStatusSource {
 public:
  AclReplication(ReplicatorDeps deps, bool token_replication, ReplicatorOptions options = {});
  ~AclReplication() override;

  void start();
  void stop();

  endpoints::AclReplicationStatus acl_replication_status() const override;

 private:
  const std::string source_datacenter_;
  const bool token_replication_;
  std::vector<std::unique_ptr<Replicator>> replicators_;  // policies, roles[, tokens]
};

}  // namespace pc::daemon
