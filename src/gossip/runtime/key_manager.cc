#include "gossip/runtime/key_manager.h"

#include <algorithm>
#include <future>

#include "core/log.h"

namespace pc::gossip {

Pool::QueryCallback key_query_handler(std::shared_ptr<Keyring> keyring, KeyringPersist persist,
                                      Pool::QueryCallback next) {
  return [keyring = std::move(keyring), persist = std::move(persist),
          next = std::move(next)](const QueryRequest& q) -> std::optional<std::string> {
    auto op = key_op_of_query(q.name);
    if (!op) return next ? next(q) : std::nullopt;
    core::log::info("gossip", "{} query from {}", q.name, q.origin);
    KeyResponse r = apply_key_query(*keyring, *op, q.payload, persist);
    if (!r.result) core::log::warn("gossip", "{} query: {}", q.name, r.message);
    return encode_key_response(r);
  };
}

void key_operation_async(Pool& pool, KeyOp op, const std::string& key, std::uint32_t relay_factor,
                         std::function<void(core::Result<KeyringSummary>)> done) {
  if (op != KeyOp::kList) {
    if (auto valid = Keyring::decode_key(key); !valid) {
      done(valid.error());
      return;
    }
  }
  // serf's NumNodes: the live members when the query starts; the query ends early once
  // that many answered.
  const std::size_t live = pool.live_count();
  const auto timeout = std::max(pool.default_query_timeout(), kKeyQueryTimeoutMin);
  pool.query_async(std::string(key_query_name(op)), op == KeyOp::kList ? "" : key, timeout,
                   relay_factor, live,
                   [live, done = std::move(done)](core::Result<std::vector<QueryResponse>> r) {
                     if (!r) {
                       done(r.error());
                       return;
                     }
                     KeyringSummary summary;
                     summary.num_nodes = static_cast<int>(live);
                     for (const QueryResponse& q : *r) summary.add(q.from, q.payload);
                     done(std::move(summary));
                   });
}

core::Result<KeyringSummary> key_operation(Pool& pool, KeyOp op, const std::string& key,
                                           std::uint32_t relay_factor) {
  std::promise<core::Result<KeyringSummary>> result;
  auto future = result.get_future();
  key_operation_async(pool, op, key, relay_factor, [&result](core::Result<KeyringSummary> r) {
    result.set_value(std::move(r));
  });
  return future.get();
}

}  // namespace pc::gossip
