// Bytes from the network through the keyring's open path, as the runtime takes them: a
// keyring with one key (32 bytes of 'k', the key the seed corpus was sealed with) and one
// other key, strict and lenient about plaintext. Nothing may crash; what opens must decode
// or be refused by the codec without crashing either, and a frame opened and sealed again
// must open to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/assert.h"
#include "core/strings.h"
#include "gossip/codec.h"
#include "gossip/keyring.h"

namespace {

pc::gossip::Keyring& keyring(bool verify_incoming) {
  auto make = [](bool verify) {
    auto* ring = new pc::gossip::Keyring(
        pc::gossip::Keyring::Options{.verify_incoming = verify, .verify_outgoing = true});
    PC_ASSERT(ring->install(pc::core::base64_encode(std::string(32, 'k'))), "install");
    PC_ASSERT(ring->install(pc::core::base64_encode(std::string(16, 'o'))), "install");
    return ring;
  };
  static pc::gossip::Keyring* strict = make(true);
  static pc::gossip::Keyring* lenient = make(false);
  return verify_incoming ? *strict : *lenient;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pc::gossip;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (bool verify : {true, false}) {
    Keyring& ring = keyring(verify);
    auto opened = ring.incoming(bytes);
    if (!opened) continue;
    (void)decode_packet(*opened, Channel::kUdp);
    (void)decode_packet(*opened, Channel::kTcp);
    auto again = ring.open(*ring.seal(*opened));
    PC_ASSERT(again && *again == *opened, "an opened gossip frame does not round-trip");
  }
  return 0;
}
