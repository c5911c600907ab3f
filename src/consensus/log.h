#pragma once
// The one write path (shared/DESIGN.md): every change of replicated state is a command
// appended to a log and applied, in index order, by an Fsm on one thread. In -dev mode the
// log is SingleNodeLog; the Raft issue puts a replicated log behind the same interface, so
// nothing above this seam changes when consensus arrives.
#include <any>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pc::consensus {

// The state machine a log drives. Called only on the log's apply thread, one entry at a time
// in strictly increasing index order.
class Fsm {
 public:
  virtual ~Fsm() = default;
  // Applies one committed command. Must be deterministic: same index and bytes over the
  // same prior state, same result. A command that cannot be decoded is corruption of
  // committed data; implementations stop the process rather than diverge.
  virtual std::any apply(std::uint64_t index, std::string_view command) = 0;
  // Makes everything applied so far visible to readers (called once per applied batch).
  virtual void publish() = 0;

  // Log compaction (a replicated log only; -dev never calls these). snapshot() is called on
  // the apply thread right after publish() and must be cheap: it captures the state as of
  // the last applied entry and returns a function that serializes that state, which the
  // log runs on another thread while apply goes on. restore() replaces the whole state with
  // a serialized one (a snapshot from disk at start, or one sent by the leader); `index` is
  // the last entry it covers. Both fail (kInternal) unless overridden.
  using SnapshotWriter = std::function<core::Result<std::string>()>;
  virtual core::Result<SnapshotWriter> snapshot() {
    return core::make_error(core::Code::kInternal, "this state machine takes no snapshots");
  }
  virtual core::Status restore(std::uint64_t index, std::string_view data) {
    (void)index;
    (void)data;
    return core::make_error(core::Code::kInternal, "this state machine takes no snapshots");
  }
};

// Called once per proposal, on the apply thread, after the command was applied and published
// (so the proposer reads its own write), with what Fsm::apply returned; or with an error
// (Unavailable: queue full or log stopping; NotLeader once there is a leader elsewhere).
// Must not block: hand work to another executor.
using ProposeDone = std::function<void(core::Result<std::any>)>;

struct LeaderInfo {
  bool known_leader = false;
  std::string leader_address;  // "ip:port" of the leader's server RPC, "" if unknown
  std::uint64_t last_contact_ms = 0;
};

// One server of the Raft configuration as this server sees it (Consul's
// /v1/operator/raft/configuration and autopilot health build on it).
struct RaftServerInfo {
  std::string address;  // the server's RPC "ip:port"
  bool voter = true;
  bool leader = false;
  // The leader's view of how far this server's log matches its own, and whether it heard
  // from it within the last election timeout; on other servers 0 / false (unknown), except
  // for the server itself.
  std::uint64_t match_index = 0;
  bool recently_active = false;
  bool operator==(const RaftServerInfo&) const = default;
};

struct RaftConfiguration {
  std::vector<RaftServerInfo> servers;  // ordered by address
  std::uint64_t last_index = 0;         // this server's last log index
  std::uint64_t term = 0;               // this server's current term
  bool operator==(const RaftConfiguration&) const = default;
};

// Outcome of an operator action (remove a server, transfer leadership).
using OperatorDone = std::function<void(core::Status)>;

// Thread-safe: propose() and the accessors may be called from any thread.
class Log {
 public:
  virtual ~Log() = default;
  virtual void propose(std::string command, ProposeDone done) = 0;
  virtual LeaderInfo leader() const = 0;
  virtual std::uint64_t last_index() const = 0;
  virtual std::uint64_t applied_index() const = 0;
  // The RPC addresses of the voting servers (Consul's /v1/status/peers), in a stable order;
  // empty while none is known.
  virtual std::vector<std::string> voters() const = 0;

  // Operator actions (Consul's /v1/operator/raft/*), carried out by the leader (a follower
  // forwards them). `done` runs once, on any thread: remove_server once the configuration
  // without the server is committed; transfer_leadership once another server leads (to
  // `address`, or to the most up-to-date voter when it is empty), or with an error after
  // about two election timeouts. Errors: kNotFound "... is not a server of this cluster",
  // kNotLeader "No cluster leader", kInvalidArgument for what cannot be done (the only
  // server, transferring to itself).
  virtual RaftConfiguration configuration() const = 0;
  // The leader's view of the configuration (every server's match index and activity, the
  // leader's last index and term): on the leader its own, on a follower asked of the leader
  // (Consul forwards Operator.RaftGetConfiguration and ServerHealth unless ?stale). `done`
  // runs once, on any thread; kNotLeader "No cluster leader" when there is none to ask.
  using ConfigurationDone = std::function<void(core::Result<RaftConfiguration>)>;
  virtual void leader_configuration(ConfigurationDone done) { done(configuration()); }
  // Runs `done` once this server has applied every write committed before the call (a
  // linearizable read point: Consul's ?consistent); kNotLeader "No cluster leader" when
  // there is none to confirm it.
  virtual void read_barrier(OperatorDone done) = 0;
  // True when this server may answer a read of replicated state from its own state at once
  // and still include every write acknowledged before the call: it leads, under a leader
  // lease measured in monotonic time, and has applied everything an earlier leader
  // acknowledged. Consul's default read mode uses it; when false, such a read takes
  // read_barrier() instead. Cheap and thread-safe: called on every read.
  virtual bool lease_valid() const = 0;
  virtual void remove_server(std::string address, OperatorDone done) = 0;
  virtual void transfer_leadership(std::string address, OperatorDone done) = 0;
};

}  // namespace pc::consensus
