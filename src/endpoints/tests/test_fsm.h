#pragma once
// The state machine the endpoint tests run the -dev log over: the real store, applying each
// committed entry (a bad entry fails the test).
#include <gtest/gtest.h>

#include <any>

#include "consensus/log.h"
#include "proto/commands.pb.h"
#include "state/store.h"

namespace pc::endpoints::testing {

class StoreFsm : public consensus::Fsm {
 public:
  explicit StoreFsm(state::Store& s) : store(s) {}
  std::any apply(std::uint64_t index, std::string_view bytes) override {
    auto cmd = state::decode_command(bytes);
    EXPECT_TRUE(cmd.has_value());
    return store.apply(index, *cmd);
  }
  void publish() override { store.publish(); }
  state::Store& store;
};

}  // namespace pc::endpoints::testing
