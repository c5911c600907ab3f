#include "daemon/store_fsm.h"

#include "proto/commands.pb.h"

namespace pc::daemon {

std::any StoreFsm::apply(std::uint64_t index, std::string_view command) {
  auto decoded = state::decode_command(command);
  PC_ASSERT(decoded.has_value(), "committed log entry {} does not decode: {}", index,
            decoded.error().message);
  return store_.apply(index, *decoded);
}

}  // namespace pc::daemon
