#include "daemon/apply_outcome.h"

#include "core/assert.h"
#include "proto/forward.pb.h"
#include "state/store.h"

namespace pc::daemon {
namespace {

// Txn results and errors per outcome: Consul's maxTxnOps bounds both far below this.
constexpr int kTxnItemsMax = 4096;
constexpr std::uint32_t kLastCode = static_cast<std::uint32_t>(core::Code::kInternal);

}  // namespace

std::string encode_apply_outcome(const std::any& result) {
  const auto* r = std::any_cast<state::ApplyResult>(&result);
  PC_ASSERT(r != nullptr, "the FSM returned something other than an ApplyResult");
  proto::forward::ApplyOutcome out;
  if (!r->status) {
    out.set_code(static_cast<std::uint32_t>(r->status.error().code));
    out.set_message(r->status.error().message);
  }
  out.set_ok(r->ok);
  for (const auto& entry : r->txn_results) {
    auto* t = out.add_txn_results();
    if (!entry) continue;
    auto* e = t->mutable_entry();
    e->set_key(entry->key);
    e->set_value(entry->value);
    e->set_flags(entry->flags);
    e->set_session(entry->session);
    e->set_lock_index(entry->lock_index);
    e->set_create_index(entry->create_index);
    e->set_modify_index(entry->modify_index);
  }
  for (const auto& error : r->txn_errors) {
    auto* e = out.add_txn_errors();
    e->set_op_index(error.op_index);
    e->set_what(error.what);
  }
  return out.SerializeAsString();
}

core::Result<std::any> decode_apply_outcome(std::string_view bytes) {
  auto bad = [](const char* why) {
    return core::make_error(core::Code::kInternal,
                            std::string("rpc error: forwarded write outcome: ") + why);
  };
  proto::forward::ApplyOutcome in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return bad("bad bytes");
  if (in.code() > kLastCode) return bad("unknown error code");
  if (in.txn_results_size() > kTxnItemsMax || in.txn_errors_size() > kTxnItemsMax) {
    return bad("too many txn items");
  }
  state::ApplyResult r;
  if (in.code() != 0) {
    r.status = core::make_error(static_cast<core::Code>(in.code()), in.message());
  }
  r.ok = in.ok();
  for (const auto& t : in.txn_results()) {
    if (!t.has_entry()) {
      r.txn_results.emplace_back(std::nullopt);
      continue;
    }
    const auto& e = t.entry();
    r.txn_results.emplace_back(state::DirEntry{e.key(), e.value(), e.flags(), e.session(),
                                               e.lock_index(), e.create_index(), e.modify_index()});
  }
  for (const auto& e : in.txn_errors()) {
    r.txn_errors.push_back(state::TxnError{static_cast<std::size_t>(e.op_index()), e.what()});
  }
  return std::any(std::move(r));
}

}  // namespace pc::daemon
