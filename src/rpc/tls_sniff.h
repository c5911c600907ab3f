#pragma once
// What the first byte a server-RPC peer sends says about it: a TLS handshake record
// (content type 22, RFC 8446 §5.1) or anything else, which the transport's own preamble
// check then judges as plaintext. Pure; the server-side TLS stream asks it.
#include <cstdint>

namespace pc::rpc {

enum class FirstByte { kTlsHandshake, kPlaintext };

constexpr FirstByte classify_first_byte(std::uint8_t byte) {
  return byte == 0x16 ? FirstByte::kTlsHandshake : FirstByte::kPlaintext;
}

}  // namespace pc::rpc
