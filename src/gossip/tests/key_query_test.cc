// Keyring operations as key queries (key_query.h) and the keyring file (keyring_file.h).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/strings.h"
#include "gossip/key_query.h"
#include "gossip/keyring_file.h"

namespace pc::gossip {
namespace {

const std::string kKeyA = core::base64_encode(std::string(32, 'a'));
const std::string kKeyB = core::base64_encode(std::string(32, 'b'));

std::string temp_dir() {
  std::string t = (std::filesystem::temp_directory_path() / "pc-keyring-XXXXXX").string();
  EXPECT_NE(::mkdtemp(t.data()), nullptr);
  return t;
}

TEST(KeyQuery, NamesAreSerfs) {
  EXPECT_EQ(key_query_name(KeyOp::kInstall), "_serf_install-key");
  EXPECT_EQ(key_query_name(KeyOp::kList), "_serf_list-keys");
  EXPECT_EQ(key_op_of_query("_serf_use-key"), KeyOp::kUse);
  EXPECT_EQ(key_op_of_query("_serf_remove-key"), KeyOp::kRemove);
  EXPECT_FALSE(key_op_of_query("deploy"));
}

TEST(KeyQuery, ApplyInstallUseRemoveListAndPersistEachChange) {
  Keyring ring;
  ASSERT_TRUE(ring.install(kKeyA));
  std::vector<std::vector<std::string>> saved;
  auto persist = [&](const std::vector<std::string>& keys) -> core::Status {
    saved.push_back(keys);
    return core::ok();
  };
  EXPECT_TRUE(apply_key_query(ring, KeyOp::kInstall, kKeyB, persist).result);
  KeyResponse refused = apply_key_query(ring, KeyOp::kRemove, kKeyA, persist);
  EXPECT_FALSE(refused.result);
  EXPECT_EQ(refused.message, "Removing the primary key is not allowed");
  EXPECT_TRUE(apply_key_query(ring, KeyOp::kUse, kKeyB, persist).result);
  EXPECT_TRUE(apply_key_query(ring, KeyOp::kRemove, kKeyA, persist).result);
  KeyResponse unknown =
      apply_key_query(ring, KeyOp::kUse, core::base64_encode(std::string(16, 'c')), persist);
  EXPECT_EQ(unknown.message, "Requested key is not in the keyring");
  KeyResponse bad = apply_key_query(ring, KeyOp::kInstall, "not base64!", persist);
  EXPECT_FALSE(bad.result);
  EXPECT_FALSE(bad.message.empty());
  KeyResponse list = apply_key_query(ring, KeyOp::kList, "", persist);
  EXPECT_TRUE(list.result);
  EXPECT_EQ(list.keys, std::vector<std::string>{kKeyB});
  EXPECT_EQ(list.primary_key, kKeyB);
  ASSERT_EQ(saved.size(), 3u);  // install, use, remove; refusals and lists change nothing
  EXPECT_EQ(saved.back(), std::vector<std::string>{kKeyB});
}

TEST(KeyQuery, WithoutKeysEncryptionIsOffAndNothingChanges) {
  Keyring ring;
  KeyResponse r = apply_key_query(ring, KeyOp::kInstall, kKeyA, nullptr);
  EXPECT_FALSE(r.result);
  EXPECT_EQ(r.message, "No keyring to modify (encryption not enabled)");
  EXPECT_FALSE(ring.has_keys());
  EXPECT_EQ(apply_key_query(ring, KeyOp::kList, "", nullptr).message,
            "Keyring is empty (encryption not enabled)");
}

TEST(KeyQuery, AFailedPersistIsAFailure) {
  Keyring ring;
  ASSERT_TRUE(ring.install(kKeyA));
  KeyResponse r = apply_key_query(ring, KeyOp::kInstall, kKeyB, [](const auto&) -> core::Status {
    return core::make_error(core::Code::kIoError, "disk full");
  });
  EXPECT_FALSE(r.result);
  EXPECT_EQ(r.message, "disk full");
}

TEST(KeyQuery, ResponsesRoundTripAndMalformedOnesAreRefused) {
  KeyResponse r{true, "warning", {kKeyA, kKeyB}, kKeyA};
  auto back = decode_key_response(encode_key_response(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(decode_key_response("\xff\xff\xff"));
  KeyResponse many{true, "", std::vector<std::string>(kKeysPerResponseMax + 1, kKeyA), ""};
  EXPECT_FALSE(decode_key_response(encode_key_response(many)));
}

TEST(KeyringSummary, SumsAnswersAsSerfDoes) {
  KeyringSummary s;
  s.num_nodes = 3;
  s.add("a", encode_key_response({true, "", {kKeyA, kKeyB}, kKeyA}));
  s.add("b", encode_key_response({true, "", {kKeyA}, kKeyA}));
  EXPECT_EQ(s.error(), "2/3 nodes reported success");
  s.add("c", encode_key_response({false, "Removing the primary key is not allowed", {}, ""}));
  EXPECT_EQ(s.error(), "1/3 nodes reported failure");
  EXPECT_EQ(s.keys.at(kKeyA), 2);
  EXPECT_EQ(s.keys.at(kKeyB), 1);
  EXPECT_EQ(s.primary_keys.at(kKeyA), 2);
  EXPECT_EQ(s.messages.at("c"), "Removing the primary key is not allowed");
  s.add("d", "garbage\xff");
  EXPECT_EQ(s.num_err, 2);
  KeyringSummary ok;
  ok.num_nodes = 1;
  ok.add("a", encode_key_response({true, "", {}, ""}));
  EXPECT_EQ(ok.error(), "");
}

TEST(KeyringFile, ParsesSerfsFileAndRefusesAnythingElse) {
  auto keys = parse_keyring_file("[\n  \"" + kKeyB + "\",\n  \"" + kKeyA + "\"\n]");
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(*keys, (std::vector<std::string>{kKeyB, kKeyA}));
  EXPECT_EQ(parse_keyring_file("{}").error().code, core::Code::kCorruption);
  EXPECT_FALSE(parse_keyring_file("[1]"));
  EXPECT_FALSE(parse_keyring_file("[\"c2hvcnQ=\"]"));  // 5 bytes: not a key
  EXPECT_FALSE(parse_keyring_file("[\"" + kKeyA + "\""));
  EXPECT_TRUE(parse_keyring_file("[]"));
}

TEST(KeyringFile, EncryptSeedsAnEmptyFileAndTheFileWinsAfterwards) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/" + std::string(kLanKeyringFile);
  bool ignored = false;
  {
    Keyring ring;
    ASSERT_TRUE(load_keyring(ring, path, kKeyA, ignored));
    EXPECT_FALSE(ignored);
    EXPECT_EQ(ring.list(), std::vector<std::string>{kKeyA});
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  // The cluster rotated to B (primary) while A stays installed: what the file says now.
  ASSERT_TRUE(write_keyring_file(path, {kKeyB, kKeyA}));
  {
    Keyring ring;
    ASSERT_TRUE(load_keyring(ring, path, kKeyA, ignored));
    EXPECT_TRUE(ignored);
    EXPECT_EQ(ring.primary(), kKeyB);
    EXPECT_EQ(ring.list(), (std::vector<std::string>{kKeyB, kKeyA}));
  }
  std::ofstream(path) << "not json";
  Keyring ring;
  auto broken = load_keyring(ring, path, "", ignored);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, core::Code::kCorruption);
  // No file and no key: plaintext, and no file written.
  Keyring none;
  ASSERT_TRUE(load_keyring(none, dir + "/other/local.keyring", "", ignored));
  EXPECT_FALSE(none.has_keys());
  EXPECT_FALSE(std::filesystem::exists(dir + "/other"));
  std::filesystem::remove_all(dir);
}

TEST(KeyringFile, ReplacesWholeAndRefusesAnOversizedFile) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/serf/local.keyring";
  ASSERT_TRUE(write_keyring_file(path, {kKeyA}));
  ASSERT_TRUE(write_keyring_file(path, {kKeyB, kKeyA}));
  // No temporary file left beside it; the directory is the owner's alone.
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/serf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto keys = read_keyring_file(path);
  ASSERT_TRUE(keys);
  ASSERT_TRUE(*keys);
  EXPECT_EQ(**keys, (std::vector<std::string>{kKeyB, kKeyA}));
  std::ofstream(path) << std::string(kKeyringFileSizeMax + 1, ' ');
  auto big = read_keyring_file(path);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, core::Code::kCorruption);
  EXPECT_NE(big.error().message.find("too large"), std::string::npos);
  // A path under a regular file cannot be written: an IoError that names the keyring file.
  auto blocked = write_keyring_file(path + "/x", {kKeyA});
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code, core::Code::kIoError);
  EXPECT_NE(blocked.error().message.find("keyring file"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(KeyQuery, SeedCorpus) {
  const char* dir = std::getenv("GOSSIP_WRITE_CORPUS");
  if (dir == nullptr) GTEST_SKIP() << "set GOSSIP_WRITE_CORPUS=<dir> to write the corpora";
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << bytes;
  };
  std::filesystem::create_directories(std::string(dir) + "/gossip_key_response");
  std::filesystem::create_directories(std::string(dir) + "/gossip_keyring_file");
  write("gossip_key_response/list", encode_key_response({true, "", {kKeyA, kKeyB}, kKeyA}));
  write("gossip_key_response/failure",
        encode_key_response({false, "Removing the primary key is not allowed", {}, ""}));
  write("gossip_key_response/empty", "");
  write("gossip_keyring_file/two_keys", encode_keyring_file({kKeyB, kKeyA}));
  write("gossip_keyring_file/empty_array", "[]");
  write("gossip_keyring_file/not_a_key", "[\"c2hvcnQ=\"]");
}

}  // namespace
}  // namespace pc::gossip
