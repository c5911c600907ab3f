#pragma once
// serf's KeyManager over a Pool: a keyring operation on every member of the pool (install,
// use, remove, list), each member applying it to its own keyring (key_query.h), and the
// answers summed up. The member's side is the query handler key_query_handler() makes,
// which the pool's owner puts in Pool::Options::on_query.
//
// Thread-safety: key_operation may be called from any thread but the pool's I/O thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "gossip/key_query.h"
#include "gossip/runtime/pool.h"

namespace pc::gossip {

using KeyringPersist = std::function<core::Status(const std::vector<std::string>&)>;

// Answers the internal key queries with `keyring` (persisting changes with `persist`, which
// may be null) and hands every other query to `next` (may be null: no answer).
Pool::QueryCallback key_query_handler(std::shared_ptr<Keyring> keyring, KeyringPersist persist,
                                      Pool::QueryCallback next);

// A key operation waits at least this long for every member (serf's default timeout, which
// it uses otherwise, is under a second with fast gossip timing, and a member whose I/O
// thread is busy would then be counted as not answering). It ends as soon as all answered.
inline constexpr std::chrono::milliseconds kKeyQueryTimeoutMin{5000};

// Runs `op` (with `key` in base64; ignored for kList) on every member of `pool`: the query
// ends when every live member answered or at serf's default timeout (at least
// kKeyQueryTimeoutMin). kInvalidArgument for a
// key that is not valid base64 (before anything is sent); otherwise the summary, whose
// error() says whether every member applied it.
core::Result<KeyringSummary> key_operation(Pool& pool, KeyOp op, const std::string& key,
                                           std::uint32_t relay_factor);
// The same without waiting: `done` runs once, on the pool's I/O thread (or at once on the
// caller's thread for a bad key or a stopped pool).
void key_operation_async(Pool& pool, KeyOp op, const std::string& key, std::uint32_t relay_factor,
                         std::function<void(core::Result<KeyringSummary>)> done);

}  // namespace pc::gossip
