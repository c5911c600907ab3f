#pragma once
// Gossip packets to and from bytes (proto/gossip.proto) for the runtime's UDP and TCP
// transports. Decoding reads bytes from the network: anything malformed, over the size
// limits, of an unknown version or kind, or invalid for its kind is an error
// (kInvalidArgument, kTooLarge), never a crash.
//
// Frame: one version byte (kGossipFrameVersion), then a protobuf `Packet`. The version
// byte is the seam for what the runtime adds around it: the keyring (AES-GCM, next
// milestone) seals the whole frame and opens it before decode_packet(), as memberlist
// encrypts its whole packet; a label or compression would get a new version value.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "gossip/core/message.h"

namespace pc::gossip {

inline constexpr std::uint8_t kGossipFrameVersion = 1;

std::string encode_packet(const std::vector<Message>& messages);
// `channel` is how the bytes came: a UDP datagram is held to kUdpPacketSizeMax and may not
// carry a push-pull; a TCP message to kTcpMessageSizeMax.
core::Result<std::vector<Message>> decode_packet(std::string_view bytes, Channel channel);

}  // namespace pc::gossip
