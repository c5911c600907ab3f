// LAN pool members as peers send them (daemon/server_discovery.h): the member meta (serf
// tags) and address are another agent's bytes. Reading servers and planning a bootstrap
// from them never crashes, and what comes out keeps the promised shape.
//
// Input: records separated by '\n'; in each, the first byte picks the member state, then the
// address up to the first NUL, then the meta.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"
#include "core/rand.h"
#include "daemon/server_discovery.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<pc::gossip::MemberInfo> members;
  while (!in.empty() && members.size() < 64) {
    const std::size_t end = std::min(in.find('\n'), in.size());
    std::string_view record = in.substr(0, end);
    in.remove_prefix(std::min(end + 1, in.size()));
    if (record.empty()) continue;
    pc::gossip::MemberInfo m;
    m.state = static_cast<pc::gossip::MemberState>(static_cast<std::uint8_t>(record[0]) % 4);
    record.remove_prefix(1);
    const std::size_t nul = std::min(record.find('\0'), record.size());
    m.addr = std::string(record.substr(0, nul));
    m.meta = std::string(record.substr(std::min(nul + 1, record.size())));
    m.name = "m" + std::to_string(members.size());
    members.push_back(std::move(m));
  }
  const auto servers = pc::daemon::servers_in_pool(members, "dc1");
  PC_ASSERT(servers.size() <= members.size(), "more servers than members");
  for (std::size_t i = 0; i < servers.size(); ++i) {
    PC_ASSERT(pc::core::is_uuid(servers[i].node_id), "a server without a UUID");
    PC_ASSERT(!servers[i].rpc_address.empty(), "a server without an RPC address");
    PC_ASSERT(i == 0 || servers[i - 1].rpc_address <= servers[i].rpc_address, "not sorted");
  }
  for (int expect : {0, 1, 3}) {
    const auto plan = pc::daemon::plan_bootstrap(servers, expect, 1, "127.0.0.1:8300");
    PC_ASSERT(
        !plan.ready || (plan.conflict.empty() && static_cast<int>(plan.voters.size()) >= expect),
        "a bootstrap plan that is ready without enough servers or with a conflict");
    PC_ASSERT(plan.voters.count(1) == 1, "the plan leaves this server out");
  }
  return 0;
}
