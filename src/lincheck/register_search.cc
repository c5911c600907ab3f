// The depth-first search for one register (detail/register_search.h).
//
// The history is a doubly linked list of call and return events in time order. The search
// walks it from the front: at a call it tries to linearize that operation now (the model
// allows it, and the configuration was not explored before), which removes the operation's
// two events from the list and starts again at the front; at a return it has found an
// operation that must already have been linearized but was not, so it undoes the last
// choice and tries the next call after it. The list empties exactly when every operation
// has been linearized.
//
// Operations with an unknown outcome (return at +infinity) need two refinements, or each of
// them doubles the work for as long as it stays pending (which is to the end):
//   - at each point the acknowledged candidates are tried first and the unknown ones only
//     after them, so an unknown write is not linearized before a read that cannot see it;
//   - a configuration is (acknowledged ops linearized, state, unknown ops linearized), and
//     one is dominated by another with the same first two parts and a subset of the third:
//     any completion of the larger can be replayed from the smaller with the missing unknown
//     operations appended at the end, where they are always allowed. Dominated
//     configurations are not explored again;
//   - a value nobody observes (no read returned it, no cas expected it) acts exactly like
//     any other such value, so all of them become one state, kUnobserved; and unknown writes
//     of the same (canonical) value are interchangeable, so they are only linearized in the
//     order of their calls: whichever of them a linearization uses, the earliest-called ones
//     could stand in at the same points.
#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "lincheck/detail/register_search.h"

namespace pc::lincheck::detail {
namespace {

// Every 4096 steps, ask the clock: cheap enough, and a step is well under a microsecond.
constexpr std::uint64_t kClockCheckEvery = 4096;

struct Event {
  std::uint32_t op = 0;
  bool is_call = false;
  std::uint32_t match = 0;  // the other event of the same operation
  std::uint32_t prev = 0;
  std::uint32_t next = 0;
};

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The model: whether `op` may take effect on `state`, and the state after it.
bool step(const RegisterOp& op, std::int32_t& state) {
  switch (op.step) {
    case Step::kWrite: state = op.value; return true;
    case Step::kRead: return state == op.value;
    case Step::kCas:
      if (state != op.expected) return false;
      state = op.value;
      return true;
    case Step::kCasUnknown:
      if (state == op.expected) state = op.value;
      return true;
    case Step::kReadNot: return state != op.expected;
  }
  return false;
}

constexpr std::int32_t kUnobserved = -2;

// The operations as the search sees them:
//   - failed and unknown cas that expected a value never written are dropped;
//   - every unobserved value replaced by kUnobserved;
//   - an unknown write or cas whose value was observed (read, or expected by a successful
//     cas), and which is that value's only writer, took effect before every observer: it
//     becomes an acknowledged write or successful cas that returned when the first observer
//     did. This is exact, and turns most unknown operations into ordinary ones.
std::vector<RegisterOp> canonical(const std::vector<RegisterOp>& ops) {
  std::unordered_set<std::int32_t> observed;
  std::unordered_map<std::int32_t, std::uint64_t> first_observer_return;
  std::unordered_map<std::int32_t, int> writers;
  for (const RegisterOp& op : ops) {
    if (op.step == Step::kRead) observed.insert(op.value);
    if (op.step != Step::kRead && op.step != Step::kWrite) observed.insert(op.expected);
    const bool observes = op.step == Step::kRead || op.step == Step::kCas;
    const std::int32_t seen = op.step == Step::kRead ? op.value : op.expected;
    if (observes && seen != kAbsent) {
      auto [it, fresh] = first_observer_return.emplace(seen, op.ret);
      if (!fresh) it->second = std::min(it->second, op.ret);
    }
    if (op.step == Step::kWrite || op.step == Step::kCas || op.step == Step::kCasUnknown) {
      ++writers[op.value];
    }
  }
  // A failed cas expecting a value nobody wrote saw "not that value", which always holds;
  // an unknown cas expecting one never took effect. Neither constrains anything.
  std::vector<RegisterOp> out;
  for (const RegisterOp& op : ops) {
    const bool expects_unwritten = (op.step == Step::kReadNot || op.step == Step::kCasUnknown) &&
                                   op.expected != kAbsent && writers.count(op.expected) == 0;
    if (!expects_unwritten) out.push_back(op);
  }
  for (RegisterOp& op : out) {
    if (op.step == Step::kRead || op.step == Step::kReadNot || op.value == kAbsent) continue;
    if (op.ret == kNever && writers[op.value] == 1) {
      auto first = first_observer_return.find(op.value);
      if (first != first_observer_return.end() && first->second >= op.call) {
        op.ret = first->second;
        if (op.step == Step::kCasUnknown) op.step = Step::kCas;
      }
    }
    if (observed.count(op.value) == 0) op.value = kUnobserved;
  }
  return out;
}

// For each unknown write, the unknown write of the same value called just before it (or
// -1): it may be linearized only after that one.
std::vector<std::int64_t> interchangeable_predecessors(const std::vector<RegisterOp>& ops) {
  std::vector<std::uint32_t> unknown_writes;
  for (std::uint32_t i = 0; i < ops.size(); ++i) {
    if (ops[i].step == Step::kWrite && ops[i].ret == kNever) unknown_writes.push_back(i);
  }
  std::sort(unknown_writes.begin(), unknown_writes.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (ops[a].value != ops[b].value) return ops[a].value < ops[b].value;
    return ops[a].call != ops[b].call ? ops[a].call < ops[b].call : a < b;
  });
  std::vector<std::int64_t> before(ops.size(), -1);
  for (std::size_t k = 1; k < unknown_writes.size(); ++k) {
    if (ops[unknown_writes[k]].value == ops[unknown_writes[k - 1]].value) {
      before[unknown_writes[k]] = unknown_writes[k - 1];
    }
  }
  return before;
}

class EventList {
 public:
  explicit EventList(const std::vector<RegisterOp>& ops) {
    struct Key {
      std::uint64_t time;
      bool is_return;
      std::uint32_t op;
    };
    std::vector<Key> keys;
    keys.reserve(ops.size() * 2);
    for (std::uint32_t i = 0; i < ops.size(); ++i) {
      keys.push_back({ops[i].call, false, i});
      keys.push_back({ops[i].ret, true, i});
    }
    // Calls before returns at the same time: equal times overlap rather than order.
    std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
      if (a.time != b.time) return a.time < b.time;
      if (a.is_return != b.is_return) return !a.is_return;
      return a.op < b.op;
    });
    // events_[0] is the head and events_.back() the tail sentinel.
    events_.resize(keys.size() + 2);
    std::vector<std::uint32_t> call_at(ops.size()), return_at(ops.size());
    for (std::uint32_t k = 0; k < keys.size(); ++k) {
      Event& e = events_[k + 1];
      e.op = keys[k].op;
      e.is_call = !keys[k].is_return;
      (e.is_call ? call_at : return_at)[e.op] = k + 1;
    }
    for (std::uint32_t i = 0; i < events_.size(); ++i) {
      events_[i].prev = i == 0 ? 0 : i - 1;
      events_[i].next = i + 1 == events_.size() ? i : i + 1;
    }
    for (std::uint32_t i = 0; i < ops.size(); ++i) {
      events_[call_at[i]].match = return_at[i];
      events_[return_at[i]].match = call_at[i];
    }
  }

  std::uint32_t first() const { return events_[0].next; }
  bool empty() const { return first() == tail(); }
  const Event& at(std::uint32_t i) const { return events_[i]; }

  // Takes a call and its return out of the list; restore() puts them back.
  void lift(std::uint32_t call) {
    unlink(call);
    unlink(events_[call].match);
  }
  void restore(std::uint32_t call) {
    relink(events_[call].match);
    relink(call);
  }

 private:
  std::uint32_t tail() const { return static_cast<std::uint32_t>(events_.size() - 1); }
  void unlink(std::uint32_t i) {
    events_[events_[i].prev].next = events_[i].next;
    events_[events_[i].next].prev = events_[i].prev;
  }
  void relink(std::uint32_t i) {
    events_[events_[i].prev].next = i;
    events_[events_[i].next].prev = i;
  }

  std::vector<Event> events_;
};

// The configurations explored so far, with the dominance rule above. Dominance only counts
// a configuration whose exploration has finished (it failed): one still on the search path
// is completed precisely by appending its pending unknown operations, which must not be cut.
class Explored {
 public:
  struct Handle {
    std::vector<std::pair<std::vector<std::uint64_t>, bool>>* entries = nullptr;
    std::size_t at = 0;
  };

  // Empty when (known, state, unknown) was explored, or a finished configuration dominating
  // it; otherwise records it (unfinished) and returns its handle.
  std::optional<Handle> insert(const std::vector<std::uint64_t>& known, std::int32_t state,
                               std::uint64_t hash, const std::vector<std::uint64_t>& unknown) {
    probe_.known = known;  // reuses the probe's storage: no allocation per step
    probe_.state = state;
    probe_.hash = mix(hash ^ static_cast<std::uint32_t>(state));
    auto it = seen_.find(probe_);
    if (it == seen_.end()) it = seen_.emplace(probe_, Entries{}).first;
    Entries& entries = it->second;
    for (const auto& [smaller, finished] : entries) {
      if (smaller == unknown || (finished && is_subset(smaller, unknown))) return std::nullopt;
    }
    entries.emplace_back(unknown, false);
    return Handle{&entries, entries.size() - 1};
  }

  static void finish(const Handle& h) { (*h.entries)[h.at].second = true; }

 private:
  using Entries = std::vector<std::pair<std::vector<std::uint64_t>, bool>>;
  struct Key {
    std::vector<std::uint64_t> known;
    std::int32_t state = kAbsent;
    std::uint64_t hash = 0;
    bool operator==(const Key& o) const {
      return hash == o.hash && state == o.state && known == o.known;
    }
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const { return static_cast<std::size_t>(k.hash); }
  };
  static bool is_subset(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if ((a[i] & ~b[i]) != 0) return false;
    }
    return true;
  }

  Key probe_;
  // Node-based: the Entries vectors stay put while the map grows, so handles remain valid.
  std::unordered_map<Key, Entries, KeyHash> seen_;
};

}  // namespace

Budget::Budget(std::chrono::milliseconds time_budget, std::uint64_t steps_max)
    : steps_max_(steps_max) {
  if (time_budget.count() > 0) deadline_ = std::chrono::steady_clock::now() + time_budget;
}

bool Budget::spend() {
  if (exhausted_) return false;
  ++steps_;
  if (steps_max_ != 0 && steps_ > steps_max_) exhausted_ = true;
  if (deadline_ && steps_ % kClockCheckEvery == 0 &&
      std::chrono::steady_clock::now() >= *deadline_) {
    exhausted_ = true;
  }
  return !exhausted_;
}

namespace {

// One search over one register's operations. Not reusable: run() once.
class RegisterSearch {
 public:
  explicit RegisterSearch(const std::vector<RegisterOp>& original)
      : ops_(canonical(original)),
        wait_for_(interchangeable_predecessors(ops_)),
        linearized_(ops_.size()),
        slot_(ops_.size()),
        list_(ops_) {
    std::size_t unknown_count = 0;
    for (std::uint32_t i = 0; i < ops_.size(); ++i) {
      if (ops_[i].step == Step::kReadNot) read_nots_.push_back(i);
      // Acknowledged and unknown operations get separate bit positions.
      slot_[i] =
          static_cast<std::uint32_t>(ops_[i].ret == kNever ? unknown_count++ : known_left_++);
    }
    known_.resize((known_left_ + 63) / 64);
    unknown_.resize((unknown_count + 63) / 64);
  }

  SearchOutcome run(Budget& budget) {
    std::uint32_t at = list_.first();
    while (!list_.empty()) {
      if (!budget.spend()) return SearchOutcome::kOutOfBudget;
      const Event& e = list_.at(at);
      if (!e.is_call && !unknown_phase_) {
        // Every acknowledged candidate was tried: now the unknown ones.
        unknown_phase_ = true;
        at = list_.first();
        continue;
      }
      if (e.is_call) {
        switch (try_linearize(at)) {
          case Try::kTaken: at = list_.first(); continue;
          case Try::kSkipped: at = e.next; continue;
          case Try::kNodeFailed: break;
        }
      }
      if (!backtrack(at)) return SearchOutcome::kNotLinearizable;
    }
    return SearchOutcome::kLinearizable;
  }

 private:
  enum class Try : std::uint8_t { kTaken, kSkipped, kNodeFailed };
  struct Choice {
    std::uint32_t call;
    std::int32_t state_before;
    Explored::Handle reached;  // the configuration this choice led to
    bool forced;               // no alternative needs trying (see try_linearize)
  };

  void flip(std::uint32_t op) {
    const bool unknown = ops_[op].ret == kNever;
    linearized_[op] = !linearized_[op];
    if (!unknown) linearized_[op] ? --known_left_ : ++known_left_;
    std::vector<std::uint64_t>& bits = unknown ? unknown_ : known_;
    bits[slot_[op] / 64] ^= std::uint64_t{1} << (slot_[op] % 64);
    if (!unknown) known_hash_ ^= mix(slot_[op] + 1);
  }

  // Whether the operation may be linearized now, in this phase, and the state after it.
  bool eligible(std::uint32_t op_index, std::int32_t& next) const {
    const RegisterOp& op = ops_[op_index];
    const bool in_turn = wait_for_[op_index] < 0 || linearized_[wait_for_[op_index]];
    if ((op.ret == kNever) != unknown_phase_ || !in_turn || !step(op, next)) return false;
    if (!unknown_phase_ || known_left_ == 0) return true;
    // An unknown operation that would change nothing now is better left for the end
    // (where it changes nothing either): trying it here only repeats the current node.
    if (next == state_) return false;
    // Nothing can see kUnobserved but a failed cas, which sees "not expected": an unknown
    // operation that hides the current state is of use only if a failed cas still to come
    // expects that state. Otherwise any completion after it works without it as well.
    if (next != kUnobserved) return true;
    return std::any_of(read_nots_.begin(), read_nots_.end(), [&](std::uint32_t r) {
      return !linearized_[r] && ops_[r].expected == state_;
    });
  }

  Try try_linearize(std::uint32_t at) {
    const std::uint32_t op = list_.at(at).op;
    std::int32_t next = state_;
    if (!eligible(op, next)) return Try::kSkipped;
    // An operation that leaves the state as it is and may go now can always go first: in
    // any completion it can be moved up to here. So this node stands or falls with that
    // choice, and its alternatives need no search.
    const bool forced = ops_[op].step == Step::kRead || ops_[op].step == Step::kReadNot;
    flip(op);
    if (auto reached = explored_.insert(known_, next, known_hash_, unknown_)) {
      choices_.push_back({at, state_, *reached, forced});
      state_ = next;
      list_.lift(at);
      unknown_phase_ = false;
      return Try::kTaken;
    }
    flip(op);
    return forced ? Try::kNodeFailed : Try::kSkipped;
  }

  // The current node failed: undoes choices back to one whose node has alternatives left,
  // and points `at` at the next of them. False when there is none.
  bool backtrack(std::uint32_t& at) {
    for (;;) {
      if (choices_.empty()) return false;
      Choice last = choices_.back();
      choices_.pop_back();
      Explored::finish(last.reached);
      const std::uint32_t op = list_.at(last.call).op;
      flip(op);
      state_ = last.state_before;
      list_.restore(last.call);
      if (!last.forced) {
        at = list_.at(last.call).next;
        unknown_phase_ = ops_[op].ret == kNever;
        return true;
      }
    }
  }

  const std::vector<RegisterOp> ops_;
  const std::vector<std::int64_t> wait_for_;
  std::vector<bool> linearized_;
  std::vector<std::uint32_t> read_nots_;
  std::vector<std::uint32_t> slot_;
  EventList list_;
  std::vector<std::uint64_t> known_;
  std::vector<std::uint64_t> unknown_;
  std::uint64_t known_hash_ = 0;
  std::size_t known_left_ = 0;
  Explored explored_;
  std::int32_t state_ = kAbsent;
  std::vector<Choice> choices_;
  bool unknown_phase_ = false;  // walking the unknown candidates, the known ones all tried
};

}  // namespace

SearchOutcome search(const std::vector<RegisterOp>& ops, Budget& budget) {
  return RegisterSearch(ops).run(budget);
}

}  // namespace pc::lincheck::detail
