#include "gossip/runtime/key_manager.h"

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

core::Result<KeyringSummary> key_operation(Pool& pool, KeyOp op, const std::string& key,
                                           std::uint32_t relay_factor) {
  if (op != KeyOp::kList) {
    if (auto valid = Keyring::decode_key(key); !valid) return valid.error();
  }
  KeyringSummary summary;
  const std::size_t live = pool.live_count();
  summary.num_nodes = static_cast<int>(live);
  auto responses = pool.query(std::string(key_query_name(op)), op == KeyOp::kList ? "" : key,
                              std::chrono::milliseconds(0), relay_factor, live);
  if (!responses) return responses.error();
  for (const QueryResponse& r : *responses) summary.add(r.from, r.payload);
  return summary;
}

}  // namespace pc::gossip
