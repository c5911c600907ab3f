#pragma once
// The one HTTP route table (shared/STYLE.md rule 9).
#include "endpoints/context.h"
#include "http/router.h"

namespace pc::http {

// Binds every API path to its handler. `ctx` must outlive the router.
void register_routes(Router& router, endpoints::Context& ctx);

}  // namespace pc::http
