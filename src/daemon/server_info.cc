#include "daemon/server_info.h"

#include <charconv>

#include "core/strings.h"

namespace pc::daemon {
namespace {

constexpr std::size_t kLinesOld = 7;  // before gossip: no LAN address

core::Error bad(const std::string& why) {
  return core::make_error(core::Code::kInvalidArgument, "server info: " + why);
}

bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string encode_server_info(const ServerInfo& info) {
  std::string members;
  for (std::uint64_t id : info.members) {
    members += (members.empty() ? "" : ",") + std::to_string(id);
  }
  return info.node_id + "\n" + info.node_name + "\n" + info.datacenter + "\n" + info.rpc_address +
         "\n" + info.leader_address + "\n" + std::to_string(info.leader_id) + "\n" + members +
         "\n" + info.serf_lan_address;
}

core::Result<ServerInfo> decode_server_info(std::string_view bytes) {
  if (bytes.size() > kServerInfoSizeMax) return bad("reply too large");
  std::vector<std::string> lines = core::split(bytes, '\n');
  // Eight lines now; later fields would be appended after these, so more are ignored.
  if (lines.size() < kLinesOld) {
    return bad("expected at least 7 lines, got " + std::to_string(lines.size()));
  }
  ServerInfo info;
  info.node_id = lines[0];
  info.node_name = lines[1];
  info.datacenter = lines[2];
  info.rpc_address = lines[3];
  info.leader_address = lines[4];
  if (!parse_u64(lines[5], info.leader_id)) return bad("leader id is not a number");
  if (!lines[6].empty()) {
    for (const std::string& id : core::split(lines[6], ',')) {
      if (info.members.size() == kServerInfoMembersMax) return bad("too many members");
      std::uint64_t value = 0;
      if (!parse_u64(id, value)) return bad("member id is not a number");
      info.members.push_back(value);
    }
  }
  if (lines.size() > kLinesOld) info.serf_lan_address = lines[7];
  return info;
}

}  // namespace pc::daemon
