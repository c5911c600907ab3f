// The keyring: sealing and opening, Consul's key operations and rules, the verify options,
// and a rotation while two members keep exchanging frames.
#include "gossip/keyring.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "core/strings.h"
#include "gossip/codec.h"

namespace pc::gossip {
namespace {

std::string key_of(std::size_t size, char fill) {
  return core::base64_encode(std::string(size, fill));
}

const std::string kKeyA = key_of(32, 'a');
const std::string kKeyB = key_of(32, 'b');

std::string frame() {
  Message ping{MessageKind::kPing};
  ping.seq = 7;
  ping.node = "node-b";
  ping.from = "node-a";
  return encode_packet({ping});
}

TEST(GossipKeyring, KeySizes) {
  EXPECT_TRUE(Keyring::decode_key(key_of(16, 'x')));
  EXPECT_TRUE(Keyring::decode_key(key_of(24, 'x')));
  EXPECT_TRUE(Keyring::decode_key(key_of(32, 'x')));
  // What `consul keygen` prints.
  EXPECT_TRUE(Keyring::decode_key("pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="));
  for (std::size_t bad : {0, 1, 15, 17, 31, 33, 64}) {
    auto key = Keyring::decode_key(key_of(bad, 'x'));
    ASSERT_FALSE(key) << bad;
    EXPECT_EQ(key.error().code, core::Code::kInvalidArgument);
  }
  EXPECT_FALSE(Keyring::decode_key("not base64!"));
}

TEST(GossipKeyring, SealOpensWithEveryKeySize) {
  for (std::size_t size : {16, 24, 32}) {
    Keyring ring;
    ASSERT_TRUE(ring.install(key_of(size, 'k')));
    const std::string plain = frame();
    auto sealed = ring.seal(plain);
    ASSERT_TRUE(sealed);
    EXPECT_EQ(sealed->size(), plain.size() + kSealOverhead);
    EXPECT_EQ(static_cast<std::uint8_t>((*sealed)[0]), kSealedFrameVersion);
    EXPECT_EQ(sealed->find(plain), std::string::npos);
    auto opened = ring.open(*sealed);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(*opened, plain);
  }
}

TEST(GossipKeyring, FreshNoncePerFrame) {
  Keyring ring;
  ASSERT_TRUE(ring.install(kKeyA));
  auto one = ring.seal(frame());
  auto two = ring.seal(frame());
  ASSERT_TRUE(one && two);
  EXPECT_NE(one->substr(1, kSealNonceSize), two->substr(1, kSealNonceSize));
  EXPECT_NE(*one, *two);
}

TEST(GossipKeyring, EmptyFrameRoundTrips) {
  Keyring ring;
  ASSERT_TRUE(ring.install(kKeyA));
  auto sealed = ring.seal("");
  ASSERT_TRUE(sealed);
  auto opened = ring.open(*sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, "");
}

TEST(GossipKeyring, TamperedBytesAreRefused) {
  Keyring ring;
  ASSERT_TRUE(ring.install(kKeyA));
  auto sealed = ring.seal(frame());
  ASSERT_TRUE(sealed);
  // Every byte after the version: nonce, cipher text and tag.
  for (std::size_t i = 1; i < sealed->size(); ++i) {
    std::string bad = *sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto opened = ring.open(bad);
    ASSERT_FALSE(opened) << "byte " << i;
    EXPECT_EQ(opened.error().code, core::Code::kPermissionDenied);
  }
  // The version byte: no longer a sealed frame.
  std::string bad = *sealed;
  bad[0] = 0x01;
  EXPECT_FALSE(ring.open(bad));
}

TEST(GossipKeyring, WrongKeyIsRefused) {
  Keyring a;
  Keyring b;
  ASSERT_TRUE(a.install(kKeyA));
  ASSERT_TRUE(b.install(kKeyB));
  auto sealed = a.seal(frame());
  ASSERT_TRUE(sealed);
  auto opened = b.open(*sealed);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, core::Code::kPermissionDenied);
  // The same key at another size is another key too.
  Keyring c;
  ASSERT_TRUE(c.install(key_of(16, 'a')));
  EXPECT_FALSE(c.open(*sealed));
}

TEST(GossipKeyring, TruncatedInputIsRefused) {
  Keyring ring;
  ASSERT_TRUE(ring.install(kKeyA));
  auto sealed = ring.seal(frame());
  ASSERT_TRUE(sealed);
  for (std::size_t n = 0; n < sealed->size(); ++n) {
    EXPECT_FALSE(ring.open(sealed->substr(0, n))) << n;
  }
  std::string longer = *sealed + "x";
  EXPECT_FALSE(ring.open(longer));
}

TEST(GossipKeyring, ConsulKeyRules) {
  Keyring ring;
  EXPECT_FALSE(ring.has_keys());
  EXPECT_EQ(ring.primary(), "");
  EXPECT_EQ(ring.seal("x").error().code, core::Code::kUnavailable);
  ASSERT_TRUE(ring.install(kKeyA));
  EXPECT_EQ(ring.primary(), kKeyA);  // the first key installed is the primary
  ASSERT_TRUE(ring.install(kKeyB));
  ASSERT_TRUE(ring.install(kKeyB));  // twice: no change
  EXPECT_EQ(ring.list(), (std::vector<std::string>{kKeyA, kKeyB}));
  EXPECT_EQ(ring.primary(), kKeyA);

  auto not_installed = ring.use(key_of(16, 'z'));
  ASSERT_FALSE(not_installed);
  EXPECT_EQ(not_installed.error().code, core::Code::kNotFound);
  EXPECT_FALSE(ring.use("bad key"));

  auto remove_primary = ring.remove(kKeyA);
  ASSERT_FALSE(remove_primary);
  EXPECT_EQ(remove_primary.error().code, core::Code::kInvalidArgument);

  ASSERT_TRUE(ring.use(kKeyB));
  EXPECT_EQ(ring.primary(), kKeyB);
  EXPECT_EQ(ring.list(), (std::vector<std::string>{kKeyB, kKeyA}));
  ASSERT_TRUE(ring.remove(kKeyA));
  ASSERT_TRUE(ring.remove(kKeyA));  // not installed: nothing to do
  EXPECT_EQ(ring.list(), (std::vector<std::string>{kKeyB}));
  EXPECT_FALSE(ring.remove(kKeyB));  // the last key is the primary
}

TEST(GossipKeyring, NoKeysMeansPlaintext) {
  Keyring ring;
  const std::string plain = frame();
  auto out = ring.outgoing(plain);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, plain);
  auto in = ring.incoming(plain);
  ASSERT_TRUE(in);
  EXPECT_EQ(*in, plain);
  // An encrypted frame cannot be read without a key: refused, not handed on as plaintext.
  Keyring keyed;
  ASSERT_TRUE(keyed.install(kKeyA));
  auto sealed = keyed.outgoing(plain);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(ring.incoming(*sealed).error().code, core::Code::kPermissionDenied);
}

TEST(GossipKeyring, VerifyIncomingAndOutgoing) {
  const std::string plain = frame();
  Keyring strict;  // both default to true
  ASSERT_TRUE(strict.install(kKeyA));
  auto sealed = strict.outgoing(plain);
  ASSERT_TRUE(sealed);
  EXPECT_NE(*sealed, plain);
  EXPECT_EQ(*strict.incoming(*sealed), plain);
  EXPECT_EQ(strict.incoming(plain).error().code, core::Code::kPermissionDenied);

  // The migration state: keys installed, plaintext still sent and accepted.
  Keyring lenient(Keyring::Options{.verify_incoming = false, .verify_outgoing = false});
  ASSERT_TRUE(lenient.install(kKeyA));
  EXPECT_EQ(*lenient.outgoing(plain), plain);
  EXPECT_EQ(*lenient.incoming(plain), plain);
  EXPECT_EQ(*lenient.incoming(*sealed), plain);
  // A sealed frame with a key it does not have stays refused.
  Keyring other;
  ASSERT_TRUE(other.install(kKeyB));
  EXPECT_FALSE(lenient.incoming(*other.outgoing(plain)));

  // Incoming lenient, outgoing strict: the second step of a migration.
  Keyring half(Keyring::Options{.verify_incoming = false, .verify_outgoing = true});
  ASSERT_TRUE(half.install(kKeyA));
  EXPECT_NE(*half.outgoing(plain), plain);
  EXPECT_EQ(*half.incoming(plain), plain);
}

// Install new, use new, remove old on two members, one step at a time on each, with frames
// both ways after every step: none may be refused.
TEST(GossipKeyring, RotationWhileTalking) {
  Keyring a;
  Keyring b;
  ASSERT_TRUE(a.install(kKeyA));
  ASSERT_TRUE(b.install(kKeyA));
  auto talk = [&] {
    for (int i = 0; i < 3; ++i) {
      auto ab = b.incoming(*a.outgoing(frame()));
      auto ba = a.incoming(*b.outgoing(frame()));
      ASSERT_TRUE(ab && ba);
      EXPECT_EQ(*ab, frame());
      EXPECT_EQ(*ba, frame());
    }
  };
  talk();
  ASSERT_TRUE(a.install(kKeyB));
  talk();
  ASSERT_TRUE(b.install(kKeyB));
  talk();
  ASSERT_TRUE(a.use(kKeyB));  // a seals with B; b still has both
  talk();
  ASSERT_TRUE(b.use(kKeyB));
  talk();
  ASSERT_TRUE(a.remove(kKeyA));
  talk();
  ASSERT_TRUE(b.remove(kKeyA));
  talk();
  // The old key no longer opens anything.
  Keyring old;
  ASSERT_TRUE(old.install(kKeyA));
  EXPECT_FALSE(a.incoming(*old.outgoing(frame())));
}

// GOSSIP_WRITE_CORPUS=<dir> writes the seed corpus of gossip_keyring_open_fuzz (its key is
// 32 bytes of 'k'; see the fuzz target).
TEST(GossipKeyring, SeedCorpus) {
  const char* dir = std::getenv("GOSSIP_WRITE_CORPUS");
  if (dir == nullptr) GTEST_SKIP() << "set GOSSIP_WRITE_CORPUS=<dir> to write the corpus";
  Keyring ring;
  ASSERT_TRUE(ring.install(key_of(32, 'k')));
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << bytes;
  };
  const std::string sealed = *ring.seal(frame());
  write("sealed_ping", sealed);
  write("sealed_empty", *ring.seal(""));
  write("plaintext_ping", frame());
  std::string tampered = sealed;
  tampered[tampered.size() - 1] ^= 0x40;
  write("tampered_tag", tampered);
  write("truncated", sealed.substr(0, kSealOverhead - 1));
  Keyring other;
  ASSERT_TRUE(other.install(key_of(16, 'o')));
  write("other_key", *other.seal(frame()));
}

}  // namespace
}  // namespace pc::gossip
