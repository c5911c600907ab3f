// kv get / put / delete: requests sent, outputs and exit codes, against scripted replies.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "cli/commands/kv/kv_pair.h"
#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

using testing::Harness;

// {"Key":"foo","Value":"YmFy"} with indexes, as /v1/kv answers.
std::string pair_json(const std::string& key, const std::string& value_b64,
                      const std::string& extra = "") {
  return R"({"LockIndex":0,"Key":")" + key + R"(","Flags":0,"Value":)" +
         (value_b64 == "null" ? "null" : "\"" + value_b64 + "\"") +
         R"(,"CreateIndex":12,"ModifyIndex":13)" + extra + "}";
}

TEST(KvGet, PrintsTheRawValue) {
  Harness h;
  h.reply(200, "[" + pair_json("foo", "YmFy") + "]");
  EXPECT_EQ(h.run({"kv", "get", "foo"}), 0);
  EXPECT_EQ(h.out.str(), "bar\n");
  EXPECT_EQ(h.err.str(), "");
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "GET");
  EXPECT_EQ(h.requests[0].path, "/v1/kv/foo");
  EXPECT_EQ(h.requests[0].target.url(), "http://127.0.0.1:8500");
}

TEST(KvGet, Base64AndEmptyValues) {
  Harness h;
  h.reply(200, "[" + pair_json("foo", "YmFy") + "]");
  EXPECT_EQ(h.run({"kv", "get", "-base64", "foo"}), 0);
  EXPECT_EQ(h.out.str(), "YmFy\n");
  Harness empty;
  empty.reply(200, "[" + pair_json("foo", "null") + "]");
  EXPECT_EQ(empty.run({"kv", "get", "foo"}), 0);
  EXPECT_EQ(empty.out.str(), "\n");
}

TEST(KvGet, MissingKeyIsAnError) {
  Harness h;
  h.reply(404, "");
  EXPECT_EQ(h.run({"kv", "get", "foo"}), 1);
  EXPECT_EQ(h.out.str(), "");
  EXPECT_EQ(h.err.str(), "Error! No key exists at: foo\n");
}

TEST(KvGet, LeadingSlashIsStrippedAndKeysAreEncoded) {
  Harness h;
  h.reply(200, "[" + pair_json("a b?", "eA==") + "]");
  EXPECT_EQ(h.run({"kv", "get", "/a b?"}), 0);
  EXPECT_EQ(h.requests[0].path, "/v1/kv/a%20b%3F");
}

TEST(KvGet, DetailedIsAlignedLikeConsul) {
  Harness h;
  h.reply(
      200,
      "[" + pair_json("foo", "YmFy", R"(,"Session":"adf4238a-882b-9ddc-4a9d-5b6758e4159e")") + "]");
  EXPECT_EQ(h.run({"kv", "get", "-detailed", "foo"}), 0);
  EXPECT_EQ(h.out.str(),
            "CreateIndex      12\n"
            "Flags            0\n"
            "Key              foo\n"
            "LockIndex        0\n"
            "ModifyIndex      13\n"
            "Session          adf4238a-882b-9ddc-4a9d-5b6758e4159e\n"
            "Value            bar\n");
}

TEST(KvGet, RecurseListsPairs) {
  Harness h;
  h.reply(200, "[" + pair_json("a/1", "eA==") + "," + pair_json("a/2", "eQ==") + "]");
  EXPECT_EQ(h.run({"kv", "get", "-recurse", "a"}), 0);
  EXPECT_EQ(h.out.str(), "a/1:x\na/2:y\n");
  EXPECT_EQ(h.requests[0].path, "/v1/kv/a?recurse=");

  Harness detailed;
  detailed.reply(200, "[" + pair_json("a/1", "eA==") + "," + pair_json("a/2", "eQ==") + "]");
  EXPECT_EQ(detailed.run({"kv", "get", "-recurse", "-detailed", "-base64", "a"}), 0);
  EXPECT_EQ(detailed.out.str(),
            "CreateIndex      12\nFlags            0\nKey              a/1\n"
            "LockIndex        0\nModifyIndex      13\nSession          -\n"
            "Value            eA==\n"
            "\n"
            "CreateIndex      12\nFlags            0\nKey              a/2\n"
            "LockIndex        0\nModifyIndex      13\nSession          -\n"
            "Value            eQ==\n");

  // The whole store when no prefix is given; nothing printed when it is empty.
  Harness none;
  none.reply(404, "");
  EXPECT_EQ(none.run({"kv", "get", "-recurse"}), 0);
  EXPECT_EQ(none.requests[0].path, "/v1/kv/?recurse=");
  EXPECT_EQ(none.out.str(), "");
}

TEST(KvGet, KeysUseTheSeparator) {
  Harness h;
  h.reply(200, R"(["a/", "b"])");
  EXPECT_EQ(h.run({"kv", "get", "-keys"}), 0);
  EXPECT_EQ(h.out.str(), "a/\nb\n");
  EXPECT_EQ(h.requests[0].path, "/v1/kv/?keys=&separator=%2F");

  Harness custom;
  custom.reply(200, R"(["x"])");
  EXPECT_EQ(custom.run({"kv", "get", "-keys", "-separator=", "p"}), 0);
  EXPECT_EQ(custom.requests[0].path, "/v1/kv/p?keys=");

  Harness all;
  all.reply(200, "[" + pair_json("a/1", "eA==") + "]");
  EXPECT_EQ(all.run({"kv", "get", "-keys", "-recurse", "a"}), 0);
  EXPECT_EQ(all.out.str(), "a/1\n");
  EXPECT_EQ(all.requests[0].path, "/v1/kv/a?recurse=");
}

TEST(KvGet, StaleAndDatacenterGoInTheQuery) {
  Harness h;
  h.reply(200, "[" + pair_json("foo", "YmFy") + "]");
  EXPECT_EQ(h.run({"kv", "get", "-stale", "-datacenter", "dc2", "foo"}), 0);
  EXPECT_EQ(h.requests[0].path, "/v1/kv/foo?dc=dc2&stale=");
}

TEST(KvGet, ArgumentErrors) {
  Harness h;
  EXPECT_EQ(h.run({"kv", "get"}), 1);
  EXPECT_EQ(h.err.str(), "Error! Missing KEY argument\n");
  Harness many;
  EXPECT_EQ(many.run({"kv", "get", "a", "b"}), 1);
  EXPECT_EQ(many.err.str(), "Too many arguments (expected 1, got 2)\n");
  EXPECT_TRUE(h.requests.empty());
  EXPECT_TRUE(many.requests.empty());
}

TEST(KvGet, ServerAndTransportErrors) {
  Harness h;
  h.reply(500, "boom\n");
  EXPECT_EQ(h.run({"kv", "get", "foo"}), 1);
  EXPECT_EQ(h.err.str(), "Error querying agent: Unexpected response code: 500 (boom)\n");
  Harness down;
  down.fail("Error querying agent at http://127.0.0.1:8500: connection refused");
  EXPECT_EQ(down.run({"kv", "get", "foo"}), 1);
  EXPECT_EQ(down.err.str(), "Error querying agent at http://127.0.0.1:8500: connection refused\n");
  Harness garbage;
  garbage.reply(200, "not json");
  EXPECT_EQ(garbage.run({"kv", "get", "foo"}), 1);
  EXPECT_EQ(garbage.err.str().rfind("Error querying agent: Error decoding agent response", 0), 0u);
}

TEST(KvPut, WritesTheData) {
  Harness h;
  h.reply(200, "true");
  EXPECT_EQ(h.run({"kv", "put", "foo", "bar"}), 0);
  EXPECT_EQ(h.out.str(), "Success! Data written to: foo\n");
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "PUT");
  EXPECT_EQ(h.requests[0].path, "/v1/kv/foo");
  EXPECT_EQ(h.requests[0].body, "bar");

  Harness empty;
  empty.reply(200, "true");
  EXPECT_EQ(empty.run({"kv", "put", "-flags=42", "webapp/beta/active"}), 0);
  EXPECT_EQ(empty.requests[0].path, "/v1/kv/webapp/beta/active?flags=42");
  EXPECT_EQ(empty.requests[0].body, "");
}

TEST(KvPut, DataFromStdinFileOrBase64) {
  Harness stdin_put;
  stdin_put.in.str("from stdin\n");
  stdin_put.reply(200, "true");
  EXPECT_EQ(stdin_put.run({"kv", "put", "k", "-"}), 0);
  EXPECT_EQ(stdin_put.requests[0].body, "from stdin\n");

  std::string dir = (std::filesystem::temp_directory_path() / "pc-cli-test-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::string file = dir + "/license.lic";
  std::ofstream(file) << "file data";
  Harness file_put;
  file_put.reply(200, "true");
  EXPECT_EQ(file_put.run({"kv", "put", "k", "@" + file}), 0);
  EXPECT_EQ(file_put.requests[0].body, "file data");
  Harness missing;
  EXPECT_EQ(missing.run({"kv", "put", "k", "@" + dir + "/nope"}), 1);
  EXPECT_EQ(missing.err.str(),
            "Error! Failed to read file: open " + dir + "/nope: no such file or directory\n");
  std::filesystem::remove_all(dir);

  Harness literal;  // "-x" is data, not stdin
  literal.reply(200, "true");
  EXPECT_EQ(literal.run({"kv", "put", "k", "-x"}), 0);
  EXPECT_EQ(literal.requests[0].body, "-x");

  Harness b64;
  b64.reply(200, "true");
  EXPECT_EQ(b64.run({"kv", "put", "-base64", "k", "YmFy"}), 0);
  EXPECT_EQ(b64.requests[0].body, "bar");
  Harness bad_b64;
  EXPECT_EQ(bad_b64.run({"kv", "put", "-base64", "k", "!!"}), 1);
  EXPECT_EQ(bad_b64.err.str(), "Error! Cannot base 64 decode data: illegal base64 data\n");
  EXPECT_TRUE(bad_b64.requests.empty());
}

TEST(KvPut, CheckAndSet) {
  Harness ok;
  ok.reply(200, "true");
  EXPECT_EQ(ok.run({"kv", "put", "-cas", "-modify-index=844", "foo", "5"}), 0);
  EXPECT_EQ(ok.requests[0].path, "/v1/kv/foo?cas=844");
  EXPECT_EQ(ok.out.str(), "Success! Data written to: foo\n");

  Harness failed;
  failed.reply(200, "false");
  EXPECT_EQ(failed.run({"kv", "put", "-cas", "-modify-index=3", "foo", "5"}), 1);
  EXPECT_EQ(failed.err.str(), "Error! Did not write to foo: CAS failed\n");

  Harness exists;
  exists.reply(200, "false");
  EXPECT_EQ(exists.run({"kv", "put", "-cas", "foo", "5"}), 1);
  EXPECT_EQ(exists.requests[0].path, "/v1/kv/foo?cas=0");
  EXPECT_EQ(exists.err.str(),
            "Error! Did not write to foo: CAS performed with index=0 and key already exists.\n");
}

TEST(KvPut, AcquireAndRelease) {
  const std::string session = "adf4238a-882b-9ddc-4a9d-5b6758e4159e";
  Harness acquire;
  acquire.reply(200, "true");
  EXPECT_EQ(acquire.run({"kv", "put", "-acquire", "-session", session, "lock", "me"}), 0);
  EXPECT_EQ(acquire.requests[0].path, "/v1/kv/lock?acquire=" + session);
  EXPECT_EQ(acquire.out.str(), "Success! Lock acquired on: lock\n");

  Harness held;
  held.reply(200, "false");
  EXPECT_EQ(held.run({"kv", "put", "-acquire", "-session", session, "lock"}), 1);
  EXPECT_EQ(held.err.str(), "Error! Did not acquire lock\n");

  Harness release;
  release.reply(200, "true");
  EXPECT_EQ(release.run({"kv", "put", "-release", "-session=" + session, "lock"}), 0);
  EXPECT_EQ(release.requests[0].path, "/v1/kv/lock?release=" + session);
  EXPECT_EQ(release.out.str(), "Success! Lock released on: lock\n");

  Harness not_held;
  not_held.reply(200, "false");
  EXPECT_EQ(not_held.run({"kv", "put", "-release", "-session=" + session, "lock"}), 1);
  EXPECT_EQ(not_held.err.str(), "Error! Did not release lock\n");

  Harness no_session;
  EXPECT_EQ(no_session.run({"kv", "put", "-acquire", "lock"}), 1);
  EXPECT_EQ(no_session.err.str(),
            "Error! Missing -session (required with -acquire and -release)\n");
}

TEST(KvPut, ArgumentErrors) {
  Harness none;
  EXPECT_EQ(none.run({"kv", "put"}), 1);
  EXPECT_EQ(none.err.str(), "Error! Missing KEY argument\n");
  Harness many;
  EXPECT_EQ(many.run({"kv", "put", "a", "b", "c"}), 1);
  EXPECT_EQ(many.err.str(), "Error! Too many arguments (expected 1 or 2, got 3)\n");
  Harness slash;
  EXPECT_EQ(slash.run({"kv", "put", "/foo", "x"}), 1);
  EXPECT_EQ(slash.err.str(),
            "Error! Failed writing data: Invalid key. Key must not begin with a '/': /foo\n");
  Harness server;
  server.reply(413, "Value exceeds 524288 byte limit");
  EXPECT_EQ(server.run({"kv", "put", "k", "v"}), 1);
  EXPECT_EQ(server.err.str(),
            "Error! Failed writing data: Unexpected response code: 413 (Value exceeds 524288 "
            "byte limit)\n");
  EXPECT_TRUE(none.requests.empty() && many.requests.empty() && slash.requests.empty());
}

TEST(KvDelete, DeletesKeysAndPrefixes) {
  Harness h;
  h.reply(200, "true");
  EXPECT_EQ(h.run({"kv", "delete", "/foo"}), 0);
  EXPECT_EQ(h.out.str(), "Success! Deleted key: foo\n");
  EXPECT_EQ(h.requests[0].method, "DELETE");
  EXPECT_EQ(h.requests[0].path, "/v1/kv/foo");

  Harness tree;
  tree.reply(200, "true");
  EXPECT_EQ(tree.run({"kv", "delete", "-recurse", "foo"}), 0);
  EXPECT_EQ(tree.out.str(), "Success! Deleted keys with prefix: foo\n");
  EXPECT_EQ(tree.requests[0].path, "/v1/kv/foo?recurse=");

  Harness cas;
  cas.reply(200, "false");
  EXPECT_EQ(cas.run({"kv", "delete", "-cas", "-modify-index=3", "foo"}), 1);
  EXPECT_EQ(cas.requests[0].path, "/v1/kv/foo?cas=3");
  EXPECT_EQ(cas.err.str(), "Error! Did not delete key foo: CAS failed\n");

  Harness cas_ok;
  cas_ok.reply(200, "true");
  EXPECT_EQ(cas_ok.run({"kv", "delete", "-cas", "-modify-index=3", "foo"}), 0);
  EXPECT_EQ(cas_ok.out.str(), "Success! Deleted key: foo\n");
}

TEST(KvDelete, ArgumentErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const Case cases[] = {
      {{"kv", "delete"}, "Error! Missing KEY argument\n"},
      {{"kv", "delete", "a", "b"}, "Too many arguments (expected 1, got 2)\n"},
      {{"kv", "delete", "-cas", "foo"},
       "Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.\n"},
      {{"kv", "delete", "-modify-index=2", "foo"}, "Cannot specify -modify-index without -cas!\n"},
      {{"kv", "delete", "-cas", "-modify-index=2", "-recurse", "foo"},
       "Cannot specify both -cas and -recurse!\n"},
  };
  for (const Case& c : cases) {
    Harness h;
    EXPECT_EQ(h.run(c.args), 1);
    EXPECT_EQ(h.err.str(), c.err);
    EXPECT_TRUE(h.requests.empty());
  }
  Harness server;
  server.reply(403, "Permission denied");
  EXPECT_EQ(server.run({"kv", "delete", "-recurse", "foo"}), 1);
  EXPECT_EQ(
      server.err.str(),
      "Error! Did not delete prefix foo: Unexpected response code: 403 (Permission denied)\n");
}

TEST(KvPair, ParsesConsulShapes) {
  auto pairs = parse_kv_pairs(R"([{"LockIndex":1,"Key":"k","Flags":42,"Value":"dg==",)"
                              R"("CreateIndex":5,"ModifyIndex":6,"Session":"s"}])");
  ASSERT_TRUE(pairs) << pairs.error().message;
  ASSERT_EQ(pairs->size(), 1u);
  const KvPair& p = pairs->front();
  EXPECT_EQ(p.key, "k");
  EXPECT_EQ(p.value, "v");
  EXPECT_EQ(p.flags, 42u);
  EXPECT_EQ(p.lock_index, 1u);
  EXPECT_EQ(p.create_index, 5u);
  EXPECT_EQ(p.modify_index, 6u);
  EXPECT_EQ(p.session, "s");
  EXPECT_FALSE(parse_kv_pairs(R"([{"Key":"k","Value":"!!"}])"));
  EXPECT_FALSE(parse_kv_pairs(R"({"Key":"k"})"));
  EXPECT_FALSE(parse_kv_pairs(R"([{"Key":"k","Flags":"x"}])"));
  auto keys = parse_kv_keys(R"(["a","b/"])");
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys, (std::vector<std::string>{"a", "b/"}));
}

}  // namespace
}  // namespace pc::cli
