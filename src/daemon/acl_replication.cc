// The ACL replicators and their status (acl_replication.h).
#include "daemon/acl_replication.h"

namespace pc::daemon {

AclReplication::AclReplication(ReplicatorDeps deps, bool token_replication,
                               ReplicatorOptions options)
    : source_datacenter_(deps.primary_datacenter), token_replication_(token_replication) {
  // Policies first: roles and tokens link to them (a link to one not here yet is kept).
  replicators_.push_back(std::make_unique<Replicator>(acl_policies_kind(), deps, options));
  replicators_.push_back(std::make_unique<Replicator>(acl_roles_kind(), deps, options));
  if (token_replication_) {
    replicators_.push_back(std::make_unique<Replicator>(acl_tokens_kind(), deps, options));
  }
}

AclReplication::~AclReplication() {
  stop();
}

void AclReplication::start() {
  for (auto& r : replicators_) r->start();
}

void AclReplication::stop() {
  for (auto& r : replicators_) r->stop();
}

endpoints::AclReplicationStatus AclReplication::acl_replication_status() const {
  endpoints::AclReplicationStatus out;
  out.enabled = true;
  out.source_datacenter = source_datacenter_;
  out.replication_type = token_replication_ ? "tokens" : "policies";
  bool running = true;
  for (const auto& r : replicators_) {
    const ReplicationKindStatus s = r->status();
    running = running && s.running;
    if (r->name() == "policies") out.replicated_index = s.replicated_index;
    if (r->name() == "roles") out.replicated_role_index = s.replicated_index;
    if (r->name() == "tokens") out.replicated_token_index = s.replicated_index;
    // The latest success and the latest error of any kind, as Consul's routines share one
    // status and each overwrites it.
    if (s.last_success_unix_ns &&
        (!out.last_success_unix_ns || *s.last_success_unix_ns > *out.last_success_unix_ns)) {
      out.last_success_unix_ns = s.last_success_unix_ns;
    }
    if (s.last_error_unix_ns &&
        (!out.last_error_unix_ns || *s.last_error_unix_ns > *out.last_error_unix_ns)) {
      out.last_error_unix_ns = s.last_error_unix_ns;
      out.last_error_message = s.last_error_message;
    }
  }
  out.running = running;
  return out;
}

}  // namespace pc::daemon
