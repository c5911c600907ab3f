#pragma once
// The body of an I/O thread: runs an event loop (an asio::io_context, or anything with
// run()) until it returns normally. An exception escaping a handler is logged under `module`
// and the loop resumes, so one bad request never takes a thread, and with it the listener,
// down. Templated so that core stays free of Asio.
#include <exception>
#include <string_view>

#include "core/log.h"

namespace pc::core {

template <typename Loop>
void run_io_loop(Loop& loop, std::string_view module) {
  for (;;) {
    try {
      loop.run();
      return;
    } catch (const std::exception& e) {
      log::error(module, "I/O thread caught: {}", e.what());
    } catch (...) {
      log::error(module, "I/O thread caught an unknown exception");
    }
  }
}

}  // namespace pc::core
