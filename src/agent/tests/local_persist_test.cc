// The files that keep agent API registrations: their encoding, what the decoders refuse, and
// the directory store (names, modes, removal, what loading skips).
#include "agent/local_persist.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "telemetry/tests/temp_dir.h"

namespace pc::agent {
namespace {

using namespace std::chrono_literals;
using telemetry::testing::TempDir;

state::Service full_service() {
  state::Service s;
  s.id = "web-1";
  s.service = "web";
  s.tags = {"v1", "primary"};
  s.address = "10.0.0.5";
  s.tagged_addresses = {{"lan", {"10.0.0.5", 8080}}, {"wan", {"203.0.113.5", 80}}};
  s.meta = {{"version", "1.2"}};
  s.port = 8080;
  s.weights = {3, 1};
  s.enable_tag_override = true;
  return s;
}

CheckSpec http_spec() {
  CheckSpec spec;
  spec.interval = 10s;
  spec.timeout = 1500ms;
  spec.http = "http://127.0.0.1:8080/health";
  spec.method = "POST";
  spec.header = {{"X-A", {"1", "2"}}};
  spec.body = "{}";
  spec.tls_skip_verify = true;
  spec.deregister_critical_service_after = 1min;
  EXPECT_TRUE(classify_and_validate(spec));
  return spec;
}

void write_text(const std::string& path, std::string_view text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

TEST(LocalPersistCodec, ServiceRoundTrips) {
  PersistedService p{full_service(), "secret-token"};
  auto back = decode_persisted_service(encode_persisted_service(p));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, p);
}

TEST(LocalPersistCodec, ChecksRoundTripWithAndWithoutARunner) {
  PersistedCheck http;
  http.check.check_id = "service:web-1";
  http.check.name = "Service 'web' check";
  http.check.notes = "n";
  http.check.service_id = "web-1";
  http.spec = http_spec();
  auto back = decode_persisted_check(encode_persisted_check(http));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, http);
  EXPECT_EQ(back->spec->kind, CheckKind::kHttp);

  PersistedCheck maintenance;
  maintenance.check.check_id = "_node_maintenance";
  maintenance.check.notes = "upgrade";
  back = decode_persisted_check(encode_persisted_check(maintenance));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_FALSE(back->spec.has_value());
  EXPECT_EQ(*back, maintenance);
}

TEST(LocalPersistCodec, CheckStateRoundTrips) {
  PersistedCheckState s{"ttl", "warning", "slow", 1795000000};
  auto back = decode_persisted_check_state(encode_persisted_check_state(s));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, s);
}

TEST(LocalPersistCodec, DurationsReadAsTextOrNanoseconds) {
  auto p = decode_persisted_check(
      R"({"Check":{"CheckID":"c"},"ChkType":{"Interval":10000000000,"Timeout":"2s","TCP":"h:1"}})");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->spec->interval, 10s);
  EXPECT_EQ(p->spec->timeout, 2s);
  EXPECT_EQ(p->spec->kind, CheckKind::kTcp);
}

TEST(LocalPersistCodec, RefusesWhatIsNotTheFormat) {
  const char* services[] = {
      "",
      "not json",
      "[]",
      R"({"Service":{"ID":"x"})",                  // truncated
      R"({"Token":"t"})",                          // no service
      R"({"Service":{"ID":""}})",                  // no ID
      R"({"Service":{"ID":"x","Port":70000}})",    // port out of range
      R"({"Service":{"ID":"x","Port":1.5}})",      // not an integer
      R"({"Service":{"ID":"x","Tags":"a"}})",      // wrong type
      R"({"Service":{"ID":"x","Meta":{"a":1}}})",  // meta value not a string
      R"({"Service":{"ID":"x","TaggedAddresses":{"lan":"10.0.0.1"}}})",
      R"({"Service":{"ID":"x","Weights":{"Passing":-1}}})",
      R"({"Token":5,"Service":{"ID":"x"}})",
  };
  for (const char* text : services) {
    auto p = decode_persisted_service(text);
    ASSERT_FALSE(p) << text;
    EXPECT_EQ(p.error().code, core::Code::kCorruption) << text;
  }
  const char* checks[] = {
      R"({"ChkType":null})",
      R"({"Check":{"CheckID":""}})",
      R"({"Check":{"CheckID":"c"},"ChkType":{"Interval":"10s","TTL":"10s"}})",
      R"({"Check":{"CheckID":"c"},"ChkType":{"TTL":"-1s"}})",
      R"({"Check":{"CheckID":"c"},"ChkType":{"TTL":"soon"}})",
      R"({"Check":{"CheckID":"c"},"ChkType":{}})",  // no TTL and nothing to run
      R"({"Check":{"CheckID":"c"},"ChkType":{"TTL":"1s","Header":{"a":"b"}}})",
  };
  for (const char* text : checks) EXPECT_FALSE(decode_persisted_check(text)) << text;
  const char* states[] = {
      R"({"CheckID":"c","Status":"fine","Expires":1})",
      R"({"Status":"passing","Expires":1})",
      R"({"CheckID":"c","Status":"passing","Expires":-1})",
      R"({"CheckID":"c","Status":"passing","Expires":"tomorrow"})",
  };
  for (const char* text : states) EXPECT_FALSE(decode_persisted_check_state(text)) << text;
  EXPECT_EQ(decode_persisted_service(std::string(kPersistedFileSizeMax + 1, ' ')).error().code,
            core::Code::kCorruption);
}

TEST(LocalPersist, NamesFilesByTheSha256OfTheId) {
  EXPECT_EQ(persisted_file_name("web-1"),
            "c4719afa76fa448b5eca99e6736885846501d17956f2fcb2de5c916d723f3a87");
  LocalPersist persist("/d");
  EXPECT_EQ(persist.service_path("web-1"), "/d/services/" + persisted_file_name("web-1"));
  EXPECT_EQ(persist.check_path("c"), "/d/checks/" + persisted_file_name("c"));
  EXPECT_EQ(persist.check_state_path("c"), "/d/checks/state/" + persisted_file_name("c"));
}

TEST(LocalPersist, SavesPrivateFilesLoadsThemAndPurges) {
  TempDir dir;
  LocalPersist persist(dir.path());
  ASSERT_TRUE(persist.save_service(full_service(), "secret"));
  state::HealthCheck check;
  check.check_id = "service:web-1";
  check.service_id = "web-1";
  check.status = state::kHealthPassing;  // not part of the file
  ASSERT_TRUE(persist.save_check(check, http_spec()));
  ASSERT_TRUE(persist.save_check_state({"service:web-1", "passing", "ok", 42}));

  struct stat st {};
  ASSERT_EQ(::stat(persist.service_path("web-1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(persist.check_state_path("service:web-1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path() + "/services").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  auto services = persist.load_services();
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0].value.service, full_service());
  EXPECT_EQ(services[0].value.token, "secret");
  auto checks = persist.load_checks();  // the state directory beside them is not a check
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].value.check.check_id, "service:web-1");
  EXPECT_EQ(checks[0].value.check.status, "");
  auto state = persist.load_check_state("service:web-1");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->expires_unix_s, 42);

  ASSERT_TRUE(persist.purge_check("service:web-1"));
  EXPECT_FALSE(std::filesystem::exists(persist.check_path("service:web-1")));
  EXPECT_FALSE(std::filesystem::exists(persist.check_state_path("service:web-1")));
  ASSERT_TRUE(persist.purge_service("web-1"));
  EXPECT_TRUE(persist.load_services().empty());
  EXPECT_TRUE(persist.purge_service("web-1"));  // already gone is fine
}

TEST(LocalPersist, SkipsCorruptFilesRemovesLeftoversAndRenamesStrays) {
  TempDir dir;
  LocalPersist persist(dir.path());
  ASSERT_TRUE(persist.save_service(full_service(), ""));
  const std::string corrupt = dir.path() + "/services/" + persisted_file_name("broken");
  write_text(corrupt, R"({"Service":{"ID":"bro)");
  const std::string leftover = persist.service_path("half") + ".tmp";
  write_text(leftover, "{");
  state::Service other;
  other.id = "other";
  const std::string stray = dir.path() + "/services/renamed-by-hand";
  write_text(stray, encode_persisted_service({other, ""}));

  auto services = persist.load_services();
  ASSERT_EQ(services.size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(corrupt));  // left for a person to look at
  EXPECT_FALSE(std::filesystem::exists(leftover));
  EXPECT_FALSE(std::filesystem::exists(stray));
  EXPECT_TRUE(std::filesystem::exists(persist.service_path("other")));
}

TEST(LocalPersist, ACorruptOrForeignCheckStateIsDropped) {
  TempDir dir;
  LocalPersist persist(dir.path());
  write_text(persist.check_state_path("a"), "garbage");
  EXPECT_FALSE(persist.load_check_state("a"));
  EXPECT_FALSE(std::filesystem::exists(persist.check_state_path("a")));
  write_text(persist.check_state_path("b"),
             encode_persisted_check_state({"not-b", "passing", "", 99}));
  EXPECT_FALSE(persist.load_check_state("b"));
  EXPECT_FALSE(persist.load_check_state("never-written"));
}

TEST(LocalPersist, WithoutADataDirectoryNothingIsWritten) {
  LocalPersist persist("");
  EXPECT_FALSE(persist.enabled());
  EXPECT_TRUE(persist.save_service(full_service(), "t"));
  EXPECT_TRUE(persist.load_services().empty());
  EXPECT_FALSE(persist.load_check_state("x"));
}

}  // namespace
}  // namespace pc::agent
