#pragma once
// A keyring operation (/v1/operator/keyring) on one gossip pool: serf's key query to every
// member, each of which applies it to its own keyring and rewrites its keyring file; or, for a
// list with local_only, this agent's keyring alone. The LAN pool (every agent) and the WAN pool
// (servers) both run it; a server's answer holds one result per pool, as Consul's.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "endpoints/keyring.h"
#include "gossip/keyring.h"
#include "gossip/runtime/key_manager.h"
#include "gossip/runtime/pool.h"

namespace pc::daemon {

// Which pool, for the result's WAN, Datacenter and member name fields.
struct PoolKeyringIdentity {
  bool wan = false;
  std::string datacenter;
  std::string member_name;  // this agent's name in the pool
};

using PoolKeyringDone = std::function<void(core::Result<endpoints::KeyringPoolResult>)>;

// `done` runs once: on the pool's I/O thread when the query ended, or at once for a local
// list. `pool` and `keyring` must outlive the query (the pool's stop() ends it).
void pool_keyring_operation(gossip::Pool& pool, gossip::Keyring& keyring,
                            const PoolKeyringIdentity& who,
                            const endpoints::KeyringRequest& request, PoolKeyringDone done);

// Runs one keyring operation per pool at once (each `ops[i]` starts one and calls its callback
// once) and answers `done` with the results in the order of `ops` when all have ended, or the
// first error. Consul's server answers WAN first, then LAN.
using PoolKeyringOp = std::function<void(PoolKeyringDone)>;
void run_on_pools(std::vector<PoolKeyringOp> ops, endpoints::KeyringDone done);

// The keyring a pool starts with: `path` when that file exists, otherwise `encrypt` (which
// then seeds the file), with encrypt_verify_* as given; and the query handler that applies
// key queries to it and rewrites the file ("" keeps no file: -dev). `module` names the log.
struct PoolKeyring {
  std::shared_ptr<gossip::Keyring> keyring;
  gossip::Pool::QueryCallback on_query;
};
core::Result<PoolKeyring> load_pool_keyring(const std::string& path, const std::string& encrypt,
                                            bool verify_incoming, bool verify_outgoing,
                                            std::string_view module);

// "<data_dir>/<file>" for a keyring file, "" for -dev or no data directory.
std::string keyring_path(bool dev, const std::string& data_dir, std::string_view file);

}  // namespace pc::daemon
