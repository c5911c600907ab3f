#include "state/watch.h"

#include "core/assert.h"

#include <algorithm>

namespace pc::state {

struct WatchSetState {
  std::mutex mu;
  bool fired = false;
  std::function<void()> callback;

  void fire() {
    std::function<void()> fn;
    {
      std::lock_guard lock(mu);
      if (fired) return;
      fired = true;
      fn = std::move(callback);
      callback = nullptr;
    }
    if (fn) fn();
  }
};

void WatchChannel::fire() {
  std::vector<std::weak_ptr<WatchSetState>> sets;
  {
    std::lock_guard lock(mu_);
    if (fired_) return;
    fired_ = true;
    sets.swap(sets_);
  }
  for (auto& weak : sets) {
    if (auto set = weak.lock()) set->fire();
  }
}

bool WatchChannel::fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

void WatchChannel::attach(const std::shared_ptr<WatchSetState>& set) {
  {
    std::lock_guard lock(mu_);
    if (!fired_) {
      // Drop entries of sets that went away without detaching, so a channel that never fires
      // does not grow without bound.
      if (sets_.size() >= 64 && sets_.size() == sets_.capacity()) {
        std::erase_if(sets_, [](const auto& w) { return w.expired(); });
      }
      sets_.push_back(set);
      return;
    }
  }
  set->fire();
}

void WatchChannel::detach(const WatchSetState* set) {
  std::lock_guard lock(mu_);
  std::erase_if(sets_, [set](const auto& w) {
    auto p = w.lock();
    return !p || p.get() == set;
  });
}

WatchSet::WatchSet(bool collecting)
    : state_(collecting ? std::make_shared<WatchSetState>() : nullptr), collecting_(collecting) {}

WatchSet::~WatchSet() {
  for (auto& channel : channels_) channel->detach(state_.get());
}

void WatchSet::add(const std::shared_ptr<WatchChannel>& channel) {
  if (!collecting_) return;
  channels_.push_back(channel);
  channel->attach(state_);
}

void WatchSet::notify_once(std::function<void()> fn) {
  PC_ASSERT(collecting_, "notify_once on a WatchSet that does not collect");
  {
    std::lock_guard lock(state_->mu);
    if (!state_->fired) {
      state_->callback = std::move(fn);
      return;
    }
  }
  fn();
}

bool WatchSet::fired() const {
  if (!collecting_) return false;
  std::lock_guard lock(state_->mu);
  return state_->fired;
}

std::size_t WatchSet::size() const {
  return channels_.size();
}

}  // namespace pc::state
