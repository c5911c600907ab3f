#include "daemon/pool_keyring.h"

#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "core/log.h"
#include "gossip/keyring_file.h"

namespace pc::daemon {

void pool_keyring_operation(gossip::Pool& pool, gossip::Keyring& keyring,
                            const PoolKeyringIdentity& who,
                            const endpoints::KeyringRequest& request, PoolKeyringDone done) {
  auto to_result = [wan = who.wan, dc = who.datacenter](const gossip::KeyringSummary& s) {
    endpoints::KeyringPoolResult r;
    r.wan = wan;
    r.datacenter = dc;
    r.messages = s.messages;
    r.keys = s.keys;
    r.primary_keys = s.primary_keys;
    r.num_nodes = s.num_nodes;
    r.error = s.error();
    return r;
  };
  if (request.op == endpoints::KeyringOp::kList && request.local_only) {
    // This agent's keyring alone, as if it had answered its own list query.
    gossip::KeyringSummary s;
    s.num_nodes = 1;
    s.add(who.member_name, gossip::encode_key_response(gossip::apply_key_query(
                               keyring, gossip::KeyOp::kList, "", nullptr)));
    done(to_result(s));
    return;
  }
  const gossip::KeyOp op = request.op == endpoints::KeyringOp::kInstall  ? gossip::KeyOp::kInstall
                           : request.op == endpoints::KeyringOp::kUse    ? gossip::KeyOp::kUse
                           : request.op == endpoints::KeyringOp::kRemove ? gossip::KeyOp::kRemove
                                                                         : gossip::KeyOp::kList;
  gossip::key_operation_async(
      pool, op, request.key, static_cast<std::uint32_t>(request.relay_factor),
      [to_result, done = std::move(done)](core::Result<gossip::KeyringSummary> s) {
        if (!s) return done(s.error());
        done(to_result(*s));
      });
}

void run_on_pools(std::vector<PoolKeyringOp> ops, endpoints::KeyringDone done) {
  struct Pending {
    std::mutex mu;
    std::vector<endpoints::KeyringPoolResult> results;
    std::size_t remaining = 0;
    std::optional<core::Error> error;
    endpoints::KeyringDone done;
  };
  auto pending = std::make_shared<Pending>();
  pending->results.resize(ops.size());
  pending->remaining = ops.size();
  pending->done = std::move(done);
  if (ops.empty()) return pending->done(std::vector<endpoints::KeyringPoolResult>{});
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ops[i]([pending, i](core::Result<endpoints::KeyringPoolResult> r) {
      std::unique_lock lock(pending->mu);
      if (r) {
        pending->results[i] = std::move(*r);
      } else if (!pending->error) {
        pending->error = r.error();
      }
      if (--pending->remaining > 0) return;
      lock.unlock();
      if (pending->error) return pending->done(*pending->error);
      pending->done(std::move(pending->results));
    });
  }
}

core::Result<PoolKeyring> load_pool_keyring(const std::string& path, const std::string& encrypt,
                                            bool verify_incoming, bool verify_outgoing,
                                            std::string_view module) {
  PoolKeyring out;
  out.keyring =
      std::make_shared<gossip::Keyring>(gossip::Keyring::Options{verify_incoming, verify_outgoing});
  bool ignored_encrypt = false;
  if (auto s = gossip::load_keyring(*out.keyring, path, encrypt, ignored_encrypt); !s) {
    return s.error();
  }
  if (ignored_encrypt) {
    core::log::warn(module, "keyring file {} exists but -encrypt given, using the file", path);
  }
  gossip::KeyringPersist persist;
  if (!path.empty()) {
    persist = [path](const std::vector<std::string>& keys) {
      return gossip::write_keyring_file(path, keys);
    };
  }
  out.on_query = gossip::key_query_handler(out.keyring, std::move(persist), nullptr);
  return out;
}

std::string keyring_path(bool dev, const std::string& data_dir, std::string_view file) {
  if (dev || data_dir.empty()) return "";
  return data_dir + "/" + std::string(file);
}

}  // namespace pc::daemon
