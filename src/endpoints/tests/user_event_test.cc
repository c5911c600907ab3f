// Consul's user events: validation, the wire payload, filters, the index and the ring.
#include "endpoints/user_event.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "endpoints/keyring.h"

namespace pc::endpoints {
namespace {

UserEvent event(std::string name) {
  UserEvent e;
  e.id = "b54fe110-7af5-cafc-d1fb-afc8ba432b1c";
  e.name = std::move(name);
  e.payload = std::string("\0\x01payload", 9);
  return e;
}

TEST(UserEvent, ValidationUsesConsulsTexts) {
  EXPECT_EQ(validate_user_event(event("")).error().message, "User event missing name");
  UserEvent e = event("deploy");
  e.tag_filter = "v1";
  EXPECT_EQ(validate_user_event(e).error().message,
            "Cannot provide tag filter without service filter");
  e.service_filter = "(";
  EXPECT_EQ(validate_user_event(e).error().message, "Invalid service filter: (");
  e.service_filter = "web";
  EXPECT_TRUE(validate_user_event(e));
}

TEST(UserEvent, PayloadRoundTripsAndMalformedIsRefused) {
  UserEvent e = event("deploy");
  e.node_filter = "node-.*";
  auto back = decode_user_event(encode_user_event(e));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, e);
  EXPECT_FALSE(decode_user_event("[]"));
  EXPECT_FALSE(decode_user_event(R"({"ID":"x","Name":"a"})"));
  EXPECT_FALSE(decode_user_event(R"({"ID":"b54fe110-7af5-cafc-d1fb-afc8ba432b1c"})"));
  EXPECT_FALSE(decode_user_event(
      R"({"ID":"b54fe110-7af5-cafc-d1fb-afc8ba432b1c","Name":"a","Payload":"!!"})"));
}

TEST(UserEvent, FiltersAsConsulsShouldProcess) {
  std::vector<LocalServiceTags> services = {{"web", {"v1", "primary"}}, {"db", {}}};
  UserEvent e = event("deploy");
  EXPECT_TRUE(user_event_matches(e, "node-1", services));
  e.node_filter = "^node-2$";
  EXPECT_FALSE(user_event_matches(e, "node-1", services));
  e.node_filter = "node";
  e.service_filter = "^web$";
  EXPECT_TRUE(user_event_matches(e, "node-1", services));
  e.tag_filter = "^v2$";
  EXPECT_FALSE(user_event_matches(e, "node-1", services));
  e.tag_filter = "prim";
  EXPECT_TRUE(user_event_matches(e, "node-1", services));
  e.service_filter = "cache";
  EXPECT_FALSE(user_event_matches(e, "node-1", services));
  UserEvent newer = event("x");
  newer.version = kUserEventVersion + 1;
  EXPECT_FALSE(user_event_matches(newer, "node-1", services));
}

TEST(UserEvent, IndexIsTheXorOfTheIdsHalves) {
  // lower = b54fe1107af5cafc, upper = d1fbafc8ba432b1c.
  EXPECT_EQ(user_event_index("b54fe110-7af5-cafc-d1fb-afc8ba432b1c"),
            0xb54fe1107af5cafcULL ^ 0xd1fbafc8ba432b1cULL);
  EXPECT_EQ(user_event_index("nope"), 0u);
}

TEST(UserEventLog, KeepsTheLastEventsInOrderAndFiresItsWatch) {
  UserEventLog log;
  int woken = 0;
  log.on_next([&] { ++woken; });
  const auto dropped = log.on_next([&] { woken += 100; });
  EXPECT_TRUE(log.cancel(dropped));
  log.add(event("a"));
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(log.waiters(), 0u);
  log.add(event("b"));
  EXPECT_EQ(woken, 1);
  for (std::size_t i = 0; i < kUserEventBufferSize + 10; ++i) {
    UserEvent e = event(i % 2 == 0 ? "even" : "odd");
    e.ltime = i;
    log.add(e);
  }
  auto all = log.list("");
  ASSERT_EQ(all.size(), kUserEventBufferSize);
  EXPECT_EQ(all.front().ltime, 10u);
  EXPECT_EQ(all.back().ltime, kUserEventBufferSize + 9);
  EXPECT_EQ(log.list("odd").size(), kUserEventBufferSize / 2);
}

TEST(Keyring, ErrorsPrintAsConsulsMultierror) {
  KeyringPoolResult ok;
  ok.datacenter = "dc1";
  EXPECT_EQ(keyring_errors({ok}), "");
  KeyringPoolResult bad = ok;
  bad.error = "1/3 nodes reported failure";
  bad.messages["node-2"] = "Removing the primary key is not allowed";
  EXPECT_EQ(keyring_errors({bad}),
            "2 errors occurred:\n\t* dc1 (LAN) error: 1/3 nodes reported failure\n"
            "\t* node-2: Removing the primary key is not allowed\n\n");
}

TEST(UserEvent, SeedCorpus) {
  const char* dir = std::getenv("ENDPOINTS_WRITE_CORPUS");
  if (dir == nullptr) GTEST_SKIP() << "set ENDPOINTS_WRITE_CORPUS=<dir> to write the corpus";
  UserEvent e = event("deploy");
  e.service_filter = "web";
  e.tag_filter = "v1";
  std::ofstream(std::string(dir) + "/filtered", std::ios::binary) << encode_user_event(e);
  std::ofstream(std::string(dir) + "/plain", std::ios::binary) << encode_user_event(event("x"));
  std::ofstream(std::string(dir) + "/not_object", std::ios::binary) << "[1,2]";
}

}  // namespace
}  // namespace pc::endpoints
