#pragma once
// /v1/operator/keyring (Consul's KeyringOperation): one gossip keyring operation run on every
// member of each pool this agent has (the LAN pool; the WAN pool too on servers that have
// one), one result per pool in Consul's KeyringResponse shape. The daemon runs it (it owns
// the pools); the HTTP edge parses and renders.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"

namespace pc::endpoints {

enum class KeyringOp : std::uint8_t { kList, kInstall, kUse, kRemove };

struct KeyringRequest {
  KeyringOp op = KeyringOp::kList;
  std::string key;          // base64; empty for kList
  int relay_factor = 0;     // 0-5 (Consul's -relay-factor)
  bool local_only = false;  // kList only: this agent's own keyring, no query
};

// Consul's structs.KeyringResponse for one pool.
struct KeyringPoolResult {
  bool wan = false;
  std::string datacenter;
  std::string segment;
  std::map<std::string, std::string> messages;  // member → message
  std::map<std::string, int> keys;              // key → members with it installed
  std::map<std::string, int> primary_keys;      // key → members using it as primary
  int num_nodes = 0;
  std::string error;  // serf's "N/M nodes reported failure", or empty
};

// Safe to call from any thread but a gossip pool's I/O thread; `done` runs once, when every
// pool's query ended (a few seconds at most: serf's query timeout), on a pool's I/O thread
// (it must not block), or at once for a bad request.
using KeyringDone = std::function<void(core::Result<std::vector<KeyringPoolResult>>)>;
using KeyringRunner = std::function<void(const KeyringRequest&, KeyringDone)>;

// Consul's keyringErrorsOrNil, as its multierror prints it: empty when no pool failed, else
// "N error(s) occurred:\n\t* <dc> (LAN) error: ...\n\t* <node>: <message>\n\n".
std::string keyring_errors(const std::vector<KeyringPoolResult>& results);

}  // namespace pc::endpoints
