#pragma once
// Factories of the commands, one per file under commands/<noun>/<verb>.cc; registered in
// the table in cli.cc.
#include <memory>

#include "cli/cli.h"

namespace pc::cli {

std::unique_ptr<Command> make_agent_command();
std::unique_ptr<Command> make_info_command();
std::unique_ptr<Command> make_kv_command();
std::unique_ptr<Command> make_kv_delete_command();
std::unique_ptr<Command> make_kv_get_command();
std::unique_ptr<Command> make_kv_put_command();
std::unique_ptr<Command> make_version_command();

}  // namespace pc::cli
