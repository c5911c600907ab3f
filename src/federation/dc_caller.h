#pragma once
// The cross-datacenter call: how any server reaches a server of another datacenter over
// server RPC (port 8300), as Consul's servers forward an RPC whose Datacenter is not theirs
// (agent/consul/rpc.go forwardDC). ?dc= forwarding of HTTP and DNS, ACL replication from the
// primary and prepared-query failover all go through it.
//
// The interface lives here, with its one production implementation (wan_dc_caller.h) beside
// it; tests of the layers above inject a fake.
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "rpc/frame.h"

namespace pc::federation {

// Consul's structs.ErrNoDCPath text: no server of the named datacenter can be reached (none
// is known, none is alive in the WAN pool, or none answered a connection).
inline constexpr const char* kNoPathToDatacenter = "No path to datacenter";

// Calls `method` with `payload` on a healthy server of datacenter `dc` (found in the WAN
// gossip pool), retrying another server there on a connection failure, within `timeout`.
// `done` runs exactly once, from any thread: the reply bytes, or an error; with no reachable
// server of `dc` the error text is Consul's "No path to datacenter".
using DcReplyFn = std::function<void(core::Result<std::string>)>;

class DcCaller {
 public:
  virtual ~DcCaller() = default;
  virtual void call(const std::string& dc, rpc::Method method, std::string payload,
                    core::Duration timeout, DcReplyFn done) = 0;
  virtual std::vector<std::string> known_datacenters() const = 0;  // from the WAN pool
};

}  // namespace pc::federation
