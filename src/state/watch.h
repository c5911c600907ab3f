#pragma once
// Watches for blocking queries (shared/DESIGN.md "Threads, state and watches").
//
// A WatchChannel stands for one watched thing (a key, a key prefix, a table) at one moment:
// the writer fires it once when that thing changes, then replaces it with a fresh channel
// for later readers, as a closed Go channel is replaced in go-memdb. A WatchSet is what one
// read registered; it fires once, when the first of its channels fires.
//
// Thread-safety: channels are fired by the apply thread; WatchSets are created, waited on and
// destroyed by I/O threads. All methods are safe to call concurrently. The notify callback runs
// on the firing thread, or at once on the caller's thread if the set already fired; it must
// not block (post to an executor instead).
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace pc::state {

struct WatchSetState;

class WatchChannel {
 public:
  // Fires every registered set once; later registrations see a fired channel at once.
  void fire();
  bool fired() const;

 private:
  friend class WatchSet;
  void attach(const std::shared_ptr<WatchSetState>& set);
  void detach(const WatchSetState* set);

  mutable std::mutex mu_;
  bool fired_ = false;
  std::vector<std::weak_ptr<WatchSetState>> sets_;
};

class WatchSet {
 public:
  // A set that does not collect (collecting = false) ignores add(): a read that will not
  // block (no ?index) skips the registry entirely, which keeps plain reads cheap.
  explicit WatchSet(bool collecting = true);
  ~WatchSet();  // detaches from every channel, so a read that timed out leaves nothing behind
  WatchSet(const WatchSet&) = delete;
  WatchSet& operator=(const WatchSet&) = delete;

  void add(const std::shared_ptr<WatchChannel>& channel);
  // Runs `fn` once when any channel fires (now, if one already has).
  void notify_once(std::function<void()> fn);
  bool fired() const;
  std::size_t size() const;
  bool collecting() const { return collecting_; }

 private:
  std::shared_ptr<WatchSetState> state_;
  std::vector<std::shared_ptr<WatchChannel>> channels_;
  bool collecting_ = true;
};

}  // namespace pc::state
