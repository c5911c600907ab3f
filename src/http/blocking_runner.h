#pragma once
// Runs a handler's Outcome to its final Response without the HTTP server: what a server does
// with an HTTP request a client agent forwarded over server RPC. A BlockingRead is run as the
// HTTP server runs it (server.cc's run_blocking): again each time its WatchSet fires, until
// the index passes ?index or ?wait passes, then with Consul's X-Consul-Index, -KnownLeader
// and -LastContact headers. Parked reads hold no thread: the watch and the deadline are a
// callback and a timer; each run happens on the timer thread.
//
// Thread-safe; `done` runs exactly once, on the calling thread (a Response, or a read that
// does not block) or on the timer thread.
#include <functional>

#include "core/timer_thread.h"
#include "http/handler.h"
#include "http/server.h"

namespace pc::http {

void run_outcome(Outcome outcome, core::TimerThread& timers,
                 std::function<LeaderInfo()> leader_info, std::function<void(Response)> done);

// Whether a blocking read with this status may park (Consul parks on 200 and 404).
bool blockable_status(int status);

// A handler may ask for any wait; a parked read never waits longer than Consul's maximum
// plus its largest jitter.
core::Duration clamp_blocking_wait(core::Duration wait);

// Consul's headers on a blocking read's final response: X-Consul-Index (never 0, as Consul's
// setIndex), X-Consul-KnownLeader and X-Consul-LastContact.
void add_blocking_headers(Response& response, std::uint64_t index, const LeaderInfo& leader);

}  // namespace pc::http
