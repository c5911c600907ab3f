#include "gossip/key_query.h"

#include "proto/gossip.pb.h"

namespace pc::gossip {
namespace {

constexpr std::string_view kInstall = "_serf_install-key";
constexpr std::string_view kUse = "_serf_use-key";
constexpr std::string_view kRemove = "_serf_remove-key";
constexpr std::string_view kList = "_serf_list-keys";
// A key in base64 is 24 to 44 characters; a message a sentence.
constexpr std::size_t kKeyTextSizeMax = 64;
constexpr std::size_t kMessageSizeMax = 512;

}  // namespace

std::string_view key_query_name(KeyOp op) {
  switch (op) {
    case KeyOp::kInstall: return kInstall;
    case KeyOp::kUse: return kUse;
    case KeyOp::kRemove: return kRemove;
    case KeyOp::kList: return kList;
  }
  return {};
}

std::optional<KeyOp> key_op_of_query(std::string_view name) {
  if (name == kInstall) return KeyOp::kInstall;
  if (name == kUse) return KeyOp::kUse;
  if (name == kRemove) return KeyOp::kRemove;
  if (name == kList) return KeyOp::kList;
  return std::nullopt;
}

std::string encode_key_response(const KeyResponse& r) {
  proto::gossip::KeyResponse p;
  p.set_result(r.result);
  p.set_message(r.message);
  for (const std::string& k : r.keys) p.add_keys(k);
  p.set_primary_key(r.primary_key);
  return p.SerializeAsString();
}

core::Result<KeyResponse> decode_key_response(std::string_view bytes) {
  auto bad = [](const std::string& why) {
    return core::make_error(core::Code::kInvalidArgument, "key query response: " + why);
  };
  proto::gossip::KeyResponse p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return bad("does not parse");
  }
  if (static_cast<std::size_t>(p.keys_size()) > kKeysPerResponseMax) return bad("too many keys");
  if (p.message().size() > kMessageSizeMax) return bad("message too long");
  if (p.primary_key().size() > kKeyTextSizeMax) return bad("primary key too long");
  KeyResponse r;
  r.result = p.result();
  r.message = p.message();
  r.primary_key = p.primary_key();
  for (const std::string& k : p.keys()) {
    if (k.empty() || k.size() > kKeyTextSizeMax) return bad("key of " + std::to_string(k.size()));
    r.keys.push_back(k);
  }
  return r;
}

KeyResponse apply_key_query(
    Keyring& keyring, KeyOp op, std::string_view payload,
    const std::function<core::Status(const std::vector<std::string>&)>& persist) {
  KeyResponse r;
  if (!keyring.has_keys()) {
    // serf's words: without keys, encryption is off and there is no keyring to act on.
    r.message = op == KeyOp::kList ? "Keyring is empty (encryption not enabled)"
                                   : "No keyring to modify (encryption not enabled)";
    return r;
  }
  if (op == KeyOp::kList) {
    r.keys = keyring.list();
    if (r.keys.size() > kKeysPerResponseMax) {
      r.message = "truncated key list response, showing first " +
                  std::to_string(kKeysPerResponseMax) + " of " + std::to_string(r.keys.size()) +
                  " keys";
      r.keys.resize(kKeysPerResponseMax);
    }
    r.primary_key = keyring.primary();
    r.result = true;
    return r;
  }
  // memberlist's texts for the two refusals an operator meets (Consul shows them as is).
  auto key = Keyring::decode_key(payload);
  auto primary = Keyring::decode_key(keyring.primary());
  if (key && primary && op == KeyOp::kRemove && *primary == *key) {
    r.message = "Removing the primary key is not allowed";
    return r;
  }
  core::Status applied = op == KeyOp::kInstall ? keyring.install(payload)
                         : op == KeyOp::kUse   ? keyring.use(payload)
                                               : keyring.remove(payload);
  if (!applied) {
    r.message = applied.error().code == core::Code::kNotFound
                    ? "Requested key is not in the keyring"
                    : applied.error().message;
    return r;
  }
  if (persist) {
    if (auto saved = persist(keyring.list()); !saved) {
      r.message = saved.error().message;
      return r;
    }
  }
  r.result = true;
  return r;
}

void KeyringSummary::add(const std::string& from, std::string_view payload) {
  ++num_resp;
  auto decoded = decode_key_response(payload);
  if (!decoded) {
    messages[from] = "Failed to decode key query response: " + decoded.error().message;
    ++num_err;
    return;
  }
  if (!decoded->message.empty()) messages[from] = decoded->message;
  if (!decoded->result) {
    ++num_err;
    return;
  }
  for (const std::string& k : decoded->keys) ++keys[k];
  if (!decoded->primary_key.empty()) ++primary_keys[decoded->primary_key];
}

std::string KeyringSummary::error() const {
  if (num_err != 0) {
    return std::to_string(num_err) + "/" + std::to_string(num_nodes) + " nodes reported failure";
  }
  if (num_resp != num_nodes) {
    return std::to_string(num_resp) + "/" + std::to_string(num_nodes) + " nodes reported success";
  }
  return {};
}

}  // namespace pc::gossip
