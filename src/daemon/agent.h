#pragma once
// The composition root of `proconsul agent`: wires the store, the log, the endpoints, the
// timers and the HTTP server together, runs until SIGINT/SIGTERM, reloads on SIGHUP.
#include "core/config.h"

namespace pc::daemon {

// Runs the agent in the calling thread until a terminating signal; returns the exit code.
// Must be called before any other thread is started (it blocks the signals it handles).
int run_agent(const core::AgentConfig& config);

}  // namespace pc::daemon
