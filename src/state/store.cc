// The store: a working Version the writer changes, a published Version readers pin, and the
// registry of watches that publish() wakes. What each command does lives in commands.cc.
#include "state/store.h"

#include <algorithm>
#include <array>
#include <bit>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/strings.h"
#include "proto/commands.pb.h"
#include "state/acl_proto.h"
#include "state/detail/version.h"
#include "state/query_proto.h"

namespace pc::state {
namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using ChannelMap =
    std::unordered_map<std::string, std::shared_ptr<WatchChannel>, StringHash, std::equal_to<>>;

// Where the watch channels of blocking queries wait to be fired.
//
// Thread-safety: all methods lock mu_; readers register from any thread, the writer takes.
// Invariants: prefix_lengths_[n] counts the prefixes_ keys of length n (zero counts are
// erased), so take() looks up only the prefix lengths somebody watches. A channel in a map
// has not fired; take() removes what it returns, so the next reader gets a fresh channel.
class WatchRegistry {
 public:
  std::shared_ptr<WatchChannel> key(std::string_view k) {
    std::lock_guard lock(mu_);
    return channel(keys_, k, false);
  }
  std::shared_ptr<WatchChannel> prefix(std::string_view p) {
    std::lock_guard lock(mu_);
    return channel(prefixes_, p, true);
  }
  std::shared_ptr<WatchChannel> service(std::string_view lower_name) {
    std::lock_guard lock(mu_);
    return channel(services_, lower_name, false);
  }
  std::shared_ptr<WatchChannel> session(std::string_view id) {
    std::lock_guard lock(mu_);
    return channel(sessions_, id, false);
  }
  std::shared_ptr<WatchChannel> table(Table t) {
    std::lock_guard lock(mu_);
    auto& ch = tables_[static_cast<std::size_t>(t)];
    if (!ch) ch = std::make_shared<WatchChannel>();
    return ch;
  }

  // Moves into `out` the channels of exactly what `changes` touched: for a changed key K, the
  // channel of K and of every watched prefix of K; and the channels of changed tables.
  // Sorts and dedups changes.keys().
  void take(Changes& changes, std::vector<std::shared_ptr<WatchChannel>>& out) {
    auto& keys = changes.keys();
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::lock_guard lock(mu_);
    for (const std::string& k : keys) {
      if (auto it = keys_.find(std::string_view(k)); it != keys_.end()) {
        out.push_back(std::move(it->second));
        keys_.erase(it);
      }
      for (auto len = prefix_lengths_.begin();
           len != prefix_lengths_.end() && len->first <= k.size();) {
        auto it = prefixes_.find(std::string_view(k).substr(0, len->first));
        if (it == prefixes_.end()) {
          ++len;
          continue;
        }
        out.push_back(std::move(it->second));
        prefixes_.erase(it);
        len = --len->second == 0 ? prefix_lengths_.erase(len) : std::next(len);
      }
    }
    for (auto [names, map] :
         {std::pair{&changes.services(), &services_}, std::pair{&changes.sessions(), &sessions_}}) {
      for (const std::string& name : *names) {
        if (auto it = map->find(std::string_view(name)); it != map->end()) {
          out.push_back(std::move(it->second));
          map->erase(it);
        }
      }
    }
    for (std::size_t t = 0; t < kTableCount; ++t) {
      if (changes.table_changed(static_cast<Table>(t)) && tables_[t]) {
        out.push_back(std::move(tables_[t]));
      }
    }
  }

  // Moves every channel into `out` and leaves the registry empty: after a restore any read
  // may answer differently, so every waiting reader must look again.
  void take_all(std::vector<std::shared_ptr<WatchChannel>>& out) {
    std::lock_guard lock(mu_);
    for (ChannelMap* map : {&keys_, &prefixes_, &services_, &sessions_}) {
      for (auto& entry : *map) out.push_back(std::move(entry.second));
      map->clear();
    }
    prefix_lengths_.clear();
    for (auto& ch : tables_) {
      if (ch) out.push_back(std::move(ch));
    }
    sweep_at_ = kSweepMin;
  }

 private:
  std::shared_ptr<WatchChannel> channel(ChannelMap& map, std::string_view k, bool is_prefix) {
    if (auto it = map.find(k); it != map.end()) return it->second;
    if (size() >= sweep_at_) sweep();
    auto ch = std::make_shared<WatchChannel>();
    map.emplace(std::string(k), ch);
    if (is_prefix) ++prefix_lengths_[k.size()];
    return ch;
  }

  // Drops channels nobody waits on: a read that timed out leaves its channel here until the
  // key changes, and keys that never change would otherwise pile up. Only the registry can
  // hand out a channel and it does so under mu_, so use_count() == 1 here means no WatchSet
  // holds it and none can get it. Runs when the maps have doubled, so it costs O(1) amortized.
  // Channels in the registry, of every kind but tables. Called with mu_ held.
  std::size_t size() const {
    return keys_.size() + prefixes_.size() + services_.size() + sessions_.size();
  }

  void sweep() {
    std::erase_if(keys_, [](const auto& kv) { return kv.second.use_count() == 1; });
    std::erase_if(services_, [](const auto& kv) { return kv.second.use_count() == 1; });
    std::erase_if(sessions_, [](const auto& kv) { return kv.second.use_count() == 1; });
    for (auto it = prefixes_.begin(); it != prefixes_.end();) {
      if (it->second.use_count() != 1) {
        ++it;
        continue;
      }
      auto len = prefix_lengths_.find(it->first.size());
      if (--len->second == 0) prefix_lengths_.erase(len);
      it = prefixes_.erase(it);
    }
    sweep_at_ = std::max<std::size_t>(kSweepMin, 2 * size());
  }

  static constexpr std::size_t kSweepMin = 1024;
  std::mutex mu_;
  ChannelMap keys_;
  ChannelMap prefixes_;
  ChannelMap services_;  // lower-cased service name -> channel
  ChannelMap sessions_;  // session ID -> channel
  std::map<std::size_t, std::size_t> prefix_lengths_;
  std::array<std::shared_ptr<WatchChannel>, kTableCount> tables_;
  std::size_t sweep_at_ = kSweepMin;
};

// ---- dump(): a canonical, self-delimiting encoding of every table ----

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_str(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out.append(s);
}
void put_list(std::string& out, const std::vector<std::string>& l) {
  put_u64(out, l.size());
  for (const auto& x : l) put_str(out, x);
}
void put_map(std::string& out, const std::map<std::string, std::string>& m) {
  put_u64(out, m.size());
  for (const auto& [k, v] : m) {
    put_str(out, k);
    put_str(out, v);
  }
}
void put_addresses(std::string& out, const std::map<std::string, ServiceAddress>& m) {
  put_u64(out, m.size());
  for (const auto& [k, v] : m) {
    put_str(out, k);
    put_str(out, v.address);
    put_u64(out, static_cast<std::uint64_t>(v.port));
  }
}
template <class V, class Fn>
void put_table(std::string& out, std::string_view name, const PMap<V>& table, Fn&& put_value) {
  put_str(out, name);
  put_u64(out, table.size());
  for (const auto& e : table) {
    put_str(out, e.key);
    put_value(e.value);
  }
}

const Version& empty_version() {
  static const Version v;
  return v;
}

}  // namespace

// ---- Snapshot ----

namespace {
const Version& version_of(const std::shared_ptr<const Version>& v) {
  return v ? *v : empty_version();
}

// Appends to `out` the rows of `table` that a secondary `index` names under `prefix`: the
// rest of each index key is the row's key. The apply path keeps index and table in step, so
// a dangling index entry is a broken invariant.
template <class Row>
void append_via_index(const PMap<IndexRow>& index, const PMap<Row>& table, std::string_view prefix,
                      std::vector<Row>& out) {
  index.scan_prefix(prefix, [&](const auto& e) {
    const Row* row = table.find(std::string_view(e.key).substr(prefix.size()));
    PC_ASSERT(row != nullptr, "secondary index entry {} names a missing row", e.key);
    out.push_back(*row);
    return true;
  });
}
}  // namespace

std::uint64_t Snapshot::applied_index() const {
  return version_of(version_).applied_index;
}

std::uint64_t Snapshot::table_index(Table table) const {
  return version_of(version_).table_indexes[static_cast<std::size_t>(table)];
}

std::uint64_t Snapshot::max_index(std::initializer_list<Table> tables) const {
  std::uint64_t m = 0;
  for (Table t : tables) m = std::max(m, table_index(t));
  return m;
}

std::optional<DirEntry> Snapshot::kv_get(std::string_view key) const {
  const DirEntry* e = version_of(version_).kvs.find(key);
  if (e == nullptr) return std::nullopt;
  return *e;
}

void Snapshot::kv_scan(std::string_view prefix,
                       const std::function<bool(const DirEntry&)>& fn) const {
  version_of(version_).kvs.scan_prefix(prefix, [&](const auto& e) { return fn(e.value); });
}

std::uint64_t Snapshot::kv_graveyard_max_index(std::string_view prefix) const {
  std::uint64_t m = 0;
  version_of(version_).tombstones.scan_prefix(prefix, [&](const auto& e) {
    m = std::max(m, e.value);
    return true;
  });
  return m;
}

std::int64_t Snapshot::kv_lock_delay_until_unix_ns(std::string_view key) const {
  const std::int64_t* until = version_of(version_).lock_delays.find(key);
  return until != nullptr ? *until : 0;
}

std::optional<Session> Snapshot::session_get(std::string_view id) const {
  const Session* s = version_of(version_).sessions.find(id);
  if (s == nullptr) return std::nullopt;
  return *s;
}

std::vector<Session> Snapshot::session_list() const {
  std::vector<Session> out;
  for (const auto& e : version_of(version_).sessions) out.push_back(e.value);
  return out;
}

std::vector<Session> Snapshot::session_list_node(std::string_view node) const {
  const Version& v = version_of(version_);
  std::vector<Session> out;
  append_via_index(v.sessions_by_node, v.sessions, composite_prefix(core::to_lower(node)), out);
  return out;
}

std::vector<std::string> Snapshot::session_locked_keys(std::string_view id) const {
  const std::string prefix = composite_prefix(id);
  std::vector<std::string> out;
  version_of(version_).session_locks.scan_prefix(prefix, [&](const auto& e) {
    out.push_back(e.key.substr(prefix.size()));
    return true;
  });
  return out;
}

std::uint64_t Snapshot::service_index(std::string_view name) const {
  const std::uint64_t* index = version_of(version_).service_indexes.find(core::to_lower(name));
  return index != nullptr ? *index : 0;
}

ApplyResult Snapshot::txn_read(const proto::Command& txn) const {
  PC_ASSERT(txn.has_txn(), "txn_read of a command that is not a transaction");
  for (const auto& op : txn.txn().ops()) {
    const auto verb = op.verb();
    PC_ASSERT(verb == proto::KvOp::GET || verb == proto::KvOp::GET_TREE ||
                  verb == proto::KvOp::CHECK_INDEX || verb == proto::KvOp::CHECK_SESSION ||
                  verb == proto::KvOp::CHECK_NOT_EXISTS,
              "txn_read of a transaction that writes");
  }
  // The apply path on a private copy of the roots: reads leave it unchanged, and it is
  // dropped afterwards, so the shared version is never touched.
  Version scratch = version_of(version_);
  Changes changes;
  ApplyContext ctx{scratch.applied_index, 0, scratch, changes};
  return apply_command(ctx, txn);
}

std::optional<Node> Snapshot::node_get(std::string_view name) const {
  const Node* n = version_of(version_).nodes.find(core::to_lower(name));
  if (n == nullptr) return std::nullopt;
  return *n;
}

std::vector<Node> Snapshot::node_list() const {
  std::vector<Node> out;
  for (const auto& e : version_of(version_).nodes) out.push_back(e.value);
  return out;
}

std::map<std::string, std::vector<std::string>> Snapshot::service_names() const {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& e : version_of(version_).services) {
    auto& tags = out[e.value.service];
    tags.insert(tags.end(), e.value.tags.begin(), e.value.tags.end());
  }
  for (auto& [name, tags] : out) {
    std::sort(tags.begin(), tags.end());
    tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  }
  return out;
}

std::vector<Service> Snapshot::service_instances(std::string_view name) const {
  const Version& v = version_of(version_);
  std::vector<Service> out;
  append_via_index(v.services_by_name, v.services, composite_prefix(core::to_lower(name)), out);
  return out;
}

std::vector<Service> Snapshot::node_services(std::string_view node) const {
  std::vector<Service> out;
  version_of(version_).services.scan_prefix(composite_prefix(core::to_lower(node)),
                                            [&](const auto& e) {
                                              out.push_back(e.value);
                                              return true;
                                            });
  return out;
}

std::optional<Service> Snapshot::service_get(std::string_view node, std::string_view id) const {
  const Service* s = version_of(version_).services.find(service_key(node, id));
  if (s == nullptr) return std::nullopt;
  return *s;
}

std::vector<HealthCheck> Snapshot::checks_for_node(std::string_view node) const {
  std::vector<HealthCheck> out;
  version_of(version_).checks.scan_prefix(composite_prefix(core::to_lower(node)),
                                          [&](const auto& e) {
                                            out.push_back(e.value);
                                            return true;
                                          });
  return out;
}

std::vector<HealthCheck> Snapshot::checks_for_instance(std::string_view node,
                                                       std::string_view service_id) const {
  std::vector<HealthCheck> out;
  version_of(version_).checks.scan_prefix(
      composite_prefix(core::to_lower(node)), [&](const auto& e) {
        const HealthCheck& c = e.value;
        if (c.service_id.empty() || c.service_id == service_id) {
          out.push_back(c);
        }
        return true;
      });
  return out;
}

std::vector<HealthCheck> Snapshot::checks_for_service(std::string_view name) const {
  const Version& v = version_of(version_);
  const std::string prefix = composite_prefix(core::to_lower(name));
  std::vector<HealthCheck> out;
  v.services_by_name.scan_prefix(prefix, [&](const auto& e) {
    append_via_index(v.checks_by_service, v.checks,
                     composite_prefix(std::string_view(e.key).substr(prefix.size())), out);
    return true;
  });
  return out;
}

std::vector<HealthCheck> Snapshot::checks_in_state(std::string_view status) const {
  std::vector<HealthCheck> out;
  for (const auto& e : version_of(version_).checks) {
    if (status == "any" || e.value.status == status) out.push_back(e.value);
  }
  return out;
}

std::optional<HealthCheck> Snapshot::check_get(std::string_view node, std::string_view id) const {
  const HealthCheck* c = version_of(version_).checks.find(check_key(node, id));
  if (c == nullptr) return std::nullopt;
  return *c;
}

// Layout: "pc-state-dump-v1", applied index, each table index, then each table as its name,
// row count and rows (key, then fields in declaration order). Integers are 8 bytes little
// endian, strings length-prefixed. The secondary indexes are included so replay also proves
// they were maintained identically. Lock delays are left out: they are timers, not state
// (Consul keeps them out of snapshots too).
std::string Snapshot::dump() const {
  const Version& v = version_of(version_);
  std::string out = "pc-state-dump-v1";
  put_u64(out, v.applied_index);
  for (std::uint64_t idx : v.table_indexes) put_u64(out, idx);
  put_table(out, "kvs", v.kvs, [&](const DirEntry& e) {
    put_str(out, e.key);
    put_str(out, e.value);
    put_u64(out, e.flags);
    put_str(out, e.session);
    put_u64(out, e.lock_index);
    put_u64(out, e.create_index);
    put_u64(out, e.modify_index);
  });
  put_table(out, "tombstones", v.tombstones, [&](std::uint64_t idx) { put_u64(out, idx); });
  put_table(out, "sessions", v.sessions, [&](const Session& s) {
    put_str(out, s.id);
    put_str(out, s.name);
    put_str(out, s.node);
    put_u64(out, static_cast<std::uint64_t>(s.lock_delay_ns));
    put_str(out, s.behavior);
    put_str(out, s.ttl);
    put_u64(out, s.node_checks.size());
    for (const auto& c : s.node_checks) put_str(out, c);
    put_u64(out, s.service_checks.size());
    for (const auto& c : s.service_checks) {
      put_str(out, c.id);
      put_str(out, c.ns);
    }
    put_u64(out, s.create_index);
    put_u64(out, s.modify_index);
  });
  put_table(out, "sessions_by_node", v.sessions_by_node, [](IndexRow) {});
  put_table(out, "session_locks", v.session_locks, [](IndexRow) {});
  put_table(out, "nodes", v.nodes, [&](const Node& n) {
    put_str(out, n.id);
    put_str(out, n.node);
    put_str(out, n.address);
    put_str(out, n.datacenter);
    put_map(out, n.tagged_addresses);
    put_map(out, n.meta);
    put_u64(out, n.create_index);
    put_u64(out, n.modify_index);
  });
  put_table(out, "services", v.services, [&](const Service& x) {
    put_str(out, x.node);
    put_str(out, x.id);
    put_str(out, x.service);
    put_list(out, x.tags);
    put_str(out, x.address);
    put_addresses(out, x.tagged_addresses);
    put_map(out, x.meta);
    put_u64(out, static_cast<std::uint64_t>(x.port));
    put_u64(out, static_cast<std::uint64_t>(x.weights.passing));
    put_u64(out, static_cast<std::uint64_t>(x.weights.warning));
    put_u64(out, x.enable_tag_override ? 1 : 0);
    put_str(out, x.kind);
    put_u64(out, x.create_index);
    put_u64(out, x.modify_index);
  });
  put_table(out, "services_by_name", v.services_by_name, [](IndexRow) {});
  put_table(out, "service_indexes", v.service_indexes,
            [&](std::uint64_t index) { put_u64(out, index); });
  put_table(out, "checks", v.checks, [&](const HealthCheck& c) {
    for (const std::string* f : {&c.node, &c.check_id, &c.name, &c.status, &c.notes, &c.output,
                                 &c.service_id, &c.service_name}) {
      put_str(out, *f);
    }
    put_list(out, c.service_tags);
    for (const std::string* f : {&c.type, &c.http, &c.tcp, &c.interval, &c.timeout,
                                 &c.deregister_critical_service_after}) {
      put_str(out, *f);
    }
    put_u64(out, c.create_index);
    put_u64(out, c.modify_index);
  });
  put_table(out, "checks_by_service", v.checks_by_service, [](IndexRow) {});
  put_table(out, "coordinates", v.coordinates, [&](const CoordinateRow& c) {
    put_str(out, c.node);
    put_str(out, c.segment);
    put_u64(out, c.vec.size());
    for (double x : c.vec) put_u64(out, std::bit_cast<std::uint64_t>(x));
    for (double x : {c.error, c.adjustment, c.height})
      put_u64(out, std::bit_cast<std::uint64_t>(x));
    put_u64(out, c.modify_index);
  });
  // ACL rows as their (deterministic) protobuf encoding, then their indexes.
  auto put_acl = [&](const auto& row) {
    std::string bytes;
    if constexpr (std::is_same_v<std::decay_t<decltype(row)>, AclToken>) {
      proto::AclToken m;
      to_proto(row, &m);
      bytes = m.SerializeAsString();
    } else if constexpr (std::is_same_v<std::decay_t<decltype(row)>, AclPolicy>) {
      proto::AclPolicy m;
      to_proto(row, &m);
      bytes = m.SerializeAsString();
    } else {
      proto::AclRole m;
      to_proto(row, &m);
      bytes = m.SerializeAsString();
    }
    put_str(out, bytes);
    put_u64(out, row.create_index);
    put_u64(out, row.modify_index);
  };
  put_table(out, "acl_tokens", v.acl_tokens, put_acl);
  put_table(out, "acl_tokens_by_secret", v.acl_tokens_by_secret,
            [&](const std::string& id) { put_str(out, id); });
  put_table(out, "acl_policies", v.acl_policies, put_acl);
  put_table(out, "acl_policies_by_name", v.acl_policies_by_name,
            [&](const std::string& id) { put_str(out, id); });
  put_table(out, "acl_roles", v.acl_roles, put_acl);
  put_table(out, "acl_roles_by_name", v.acl_roles_by_name,
            [&](const std::string& id) { put_str(out, id); });
  put_u64(out, v.acl_bootstrap_index);
  put_table(out, "prepared_queries", v.prepared_queries, [&](const PreparedQuery& q) {
    proto::PreparedQuery m;
    to_proto(q, &m);
    put_str(out, m.SerializeAsString());
    put_u64(out, q.create_index);
    put_u64(out, q.modify_index);
  });
  put_table(out, "prepared_queries_by_name", v.prepared_queries_by_name,
            [&](const std::string& id) { put_str(out, id); });
  put_table(out, "query_templates", v.query_templates,
            [&](const std::string& id) { put_str(out, id); });
  return out;
}

// ---- Store ----

// Thread-safety: `working` and `changes` belong to the writer thread; `published` is guarded
// by `mu`, held only to copy or swap the pointer; the registry locks itself.
struct Store::Impl {
  Version working;
  Changes changes;
  mutable std::mutex mu;
  std::shared_ptr<const Version> published = std::make_shared<const Version>();
  mutable WatchRegistry watches;
};

Store::Store() : impl_(std::make_unique<Impl>()) {}
Store::~Store() = default;

ApplyResult Store::apply(std::uint64_t index, const proto::Command& command) {
  // The log hands out each index once, in order; anything else is a bug upstream.
  PC_ASSERT(index > impl_->working.applied_index, "apply at index {} after index {}", index,
            impl_->working.applied_index);
  ApplyContext ctx{index, command.proposed_unix_ns(), impl_->working, impl_->changes};
  ApplyResult r = apply_command(ctx, command);
  impl_->working.applied_index = index;
  return r;
}

void Store::publish() {
  auto next = std::make_shared<const Version>(impl_->working);
  {
    std::lock_guard lock(impl_->mu);
    impl_->published = std::move(next);
  }
  // Fire only after the swap: a woken reader must find the change in its next snapshot.
  if (impl_->changes.empty()) return;
  std::vector<std::shared_ptr<WatchChannel>> fired;
  impl_->watches.take(impl_->changes, fired);
  impl_->changes.clear();
  for (auto& ch : fired) ch->fire();
}

void Store::restore(const Snapshot& state) {
  const std::shared_ptr<const Version>& restored = VersionAccess::of(state);
  impl_->working = restored ? *restored : Version{};
  impl_->changes.clear();
  // The restored version is immutable and may be shared as it is.
  std::shared_ptr<const Version> next = restored ? restored : std::make_shared<const Version>();
  {
    std::lock_guard lock(impl_->mu);
    impl_->published = std::move(next);
  }
  // As in publish(): fire only after the swap, so a woken reader reads the restored state. A
  // reader that registers after take_all() gets a fresh channel and a snapshot taken after
  // the swap, so it cannot miss the restore either.
  std::vector<std::shared_ptr<WatchChannel>> fired;
  impl_->watches.take_all(fired);
  for (auto& ch : fired) ch->fire();
}

Snapshot Store::snapshot() const {
  std::shared_ptr<const Version> v;
  {
    std::lock_guard lock(impl_->mu);
    v = impl_->published;
  }
  return Snapshot(std::move(v));
}

void Store::watch_kv_key(WatchSet& ws, std::string_view key) const {
  if (ws.collecting()) ws.add(impl_->watches.key(key));
}

void Store::watch_kv_prefix(WatchSet& ws, std::string_view prefix) const {
  if (ws.collecting()) ws.add(impl_->watches.prefix(prefix));
}

void Store::watch_table(WatchSet& ws, Table table) const {
  if (ws.collecting()) ws.add(impl_->watches.table(table));
}

void Store::watch_session(WatchSet& ws, std::string_view id) const {
  if (ws.collecting()) ws.add(impl_->watches.session(id));
}

void Store::watch_service(WatchSet& ws, std::string_view name) const {
  if (ws.collecting()) ws.add(impl_->watches.service(core::to_lower(name)));
}

// ---- Log entry encoding ----

std::string encode_command(const proto::Command& command) {
  return command.SerializeAsString();
}

core::Result<proto::Command> decode_command(std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return core::make_error(core::Code::kCorruption, "command larger than 2 GiB");
  }
  proto::Command command;
  if (!command.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return core::make_error(core::Code::kCorruption, "command does not parse");
  }
  if (command.body_case() == proto::Command::BODY_NOT_SET) {
    return core::make_error(core::Code::kCorruption, "command has no body");
  }
  return command;
}

}  // namespace pc::state
